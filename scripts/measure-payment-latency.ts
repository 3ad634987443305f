import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { durationMs } from '../src/config/duration';
import { startOwnTemporal } from '../src/temporal/ownDevServer';
import { buildWorkflowBundle } from '../src/worker/bundle';
import { payOnPortal } from '../test/support/portalPay';
import type { TestStack } from '../test/support/stack';
import { postErpInvoice, startPaymentStack } from '../test/e2e/paymentFixtures';

// Measures how long a card payment takes from the moment the sandbox portal has recorded it (the pay page's
// confirmation came back) to the moment the sandbox ERP shows it posted (a customer ledger entry with the portal
// payment id as external document number), on two paths:
//   webhook: the portal's payment webhooks registered, webhook delay 0 (the poller set to an hour so it cannot help);
//   poll:    no webhooks, only the payments poller at its interval.
// It starts its own Temporal dev server and builds its own workflow bundle, then runs the whole product in process
// (test/support/stack.ts) for each path.
//
//   npm run measure:latency -- [--n 10] [--poll-n 5] [--poll-interval 5s]
// Targets: webhook path max ≤ 2 s; poll path max ≤ poll interval + 2 s. Exits 1 when a target is missed.

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * Pays `n` fresh ERP invoices one at a time and returns each payment's recorded → posted latency (ms). `jitterMs`
 * waits a random time before each payment, so payments land anywhere in the poller's cycle.
 */
async function measure(s: TestStack, n: number, timeoutMs: number, jitterMs = 0): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < n; i++) {
    const inv = await postErpInvoice(s, i % 2 ? 'C20000' : 'C10000', `${20 + i}.00`, 30000);
    if (jitterMs) await sleep(Math.floor(Math.random() * jitterMs));
    const { paymentId } = await payOnPortal(s.portal.url, inv.invitationKey, [{ invoiceId: inv.portalInvoiceId, amount: `${20 + i}.00` }]);
    const recorded = Date.now();
    for (;;) {
      if (s.bc.admin.listLedgerEntries().some((e) => e.externalDocumentNumber === paymentId)) break;
      if (Date.now() - recorded > timeoutMs) throw new Error(`payment ${paymentId} was not posted within ${timeoutMs} ms`);
      await sleep(5);
    }
    latencies.push(Date.now() - recorded);
  }
  return latencies;
}

function report(name: string, latencies: number[], targetMs: number): boolean {
  const sorted = [...latencies].sort((a, b) => a - b);
  const max = sorted[sorted.length - 1]!;
  const ok = max <= targetMs;
  console.log(
    `${name.padEnd(34)} n=${String(sorted.length).padEnd(3)} p50=${String(percentile(sorted, 50)).padStart(6)} ms  max=${String(max).padStart(6)} ms  target ≤ ${targetMs} ms  ${ok ? 'OK' : 'MISSED'}`,
  );
  return ok;
}

async function main() {
  const n = Number(arg('n', '10'));
  const pollN = Number(arg('poll-n', '5'));
  const pollInterval = arg('poll-interval', '5s');
  const pollMs = durationMs(pollInterval);

  // The SDK's own warnings (e.g. an activity completing after its stack was closed) would bury the figures.
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });
  console.log('starting a Temporal dev server and building the workflow bundle…');
  const bundled = buildWorkflowBundle(path.join(os.tmpdir(), `arsync-latency-bundle-${process.pid}.js`));
  const server = await startOwnTemporal();
  const stopServer = () => server.stop();
  try {
    const bundle = await bundled;
    process.env.TEMPORAL_ADDRESS = server.address;
    process.env.TEMPORAL_NAMESPACE = 'default';
    process.env.ARSYNC_WORKFLOW_BUNDLE = bundle;

    const results: boolean[] = [];
    const webhook = await startPaymentStack({ settings: { polling: { paymentsInterval: '1h' } } });
    try {
      webhook.portal.admin.setWebhookDelay(0);
      await measure(webhook, 1, 20000); // warm-up: first workflows, connections, token
      results.push(report('webhook path (delay 0)', await measure(webhook, n, 20000), 2000));
    } finally {
      await webhook.close();
    }

    const poll = await startPaymentStack({ webhooks: false, settings: { polling: { paymentsInterval: pollInterval } } });
    try {
      await measure(poll, 1, pollMs + 20000);
      results.push(report(`poll path (interval ${pollInterval})`, await measure(poll, pollN, pollMs + 20000, pollMs), pollMs + 2000));
    } finally {
      await poll.close();
    }
    process.exitCode = results.every(Boolean) ? 0 : 1;
  } finally {
    await stopServer();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

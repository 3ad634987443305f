import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { formatDecimal, parseDecimal } from '../src/domain/money';
import { workerHeapEnv } from '../src/stack/services';
import { buildWorkflowBundle } from '../src/worker/bundle';
import { ChildWorker } from './lib/childWorker';
import { paidInFullInErp, retrying, verify, type MadePayment } from './lib/chaosVerify';
import { bootstrap, createCustomers, pay, postInvoices } from './lib/scenario';
import { startBenchStack, type BenchStack } from './lib/stack';
import { forEachLimit, seededRandom, sleep } from './lib/stats';
import { startOwnTemporal } from '../src/temporal/ownDevServer';
import { Stage } from '../src/temporal/searchAttributes';
import { invoiceWorkflowId } from '../workflows/ids';
import { startWebhookProxy } from './lib/webhookProxy';
import { onInterrupt } from './lib/cleanup';
import { optionsOrExit } from './lib/options';

// `npm run chaos`: payments under a storm (worker SIGKILLed and restarted, 5xx, hangs and 429 bursts from both
// systems, webhooks duplicated and reordered), then a check that nothing was lost, posted twice or left disagreeing.
// README in this folder.

const posInt = z.coerce.number().int().positive();
const share = z.coerce.number().min(0).max(1);
const optionsSchema = z
  .object({
    payments: posInt,
    invoices: posInt,
    customers: posInt,
    kills: z.coerce.number().int().min(0),
    killEvery: z
      .string()
      .regex(/^\d+-\d+$/, 'seconds as min-max, e.g. 4-12')
      .transform((s) => s.split('-').map(Number) as [number, number])
      .refine(([a, b]) => a > 0 && b >= a, 'min must be > 0 and max >= min'),
    errorRate: share,
    timeoutRate: share,
    timeoutMs: z.coerce.number().int().min(0).max(60_000),
    duplicateRate: share,
    delayRate: share,
    maxDelayMs: z.coerce.number().int().min(0).max(30_000),
    bankShare: share,
    payConcurrency: posInt,
    convergeTimeout: posInt,
    stormSeconds: posInt,
    seed: z.coerce.number().int(),
    taxArithmetic: z.enum(['float', 'exact']),
  })
  .strict();
type Options = z.infer<typeof optionsSchema>;

function parseOptions(argv: string[]): Options {
  const program = new Command('chaos')
    .description('payments under worker kills, injected faults and bad webhook delivery; verifies exactly-once posting and agreement')
    .option('--payments <n>', 'portal payments made', '1000')
    .option('--invoices <n>', 'invoices the payments are spread over', '200')
    .option('--customers <n>', 'ERP customers the invoices belong to', '10')
    .option('--kills <n>', 'least number of worker SIGKILLs (kills continue until reached)', '20')
    .option('--kill-every <min-max>', 'seconds between kills, drawn uniformly', '4-12')
    .option('--error-rate <share>', 'share of API requests answered 5xx by each system', '0.2')
    .option('--timeout-rate <share>', 'share of API requests that hang and then answer 504', '0.05')
    .option('--timeout-ms <ms>', 'how long a hanging request hangs', '2000')
    .option('--duplicate-rate <share>', 'share of webhook deliveries sent again later', '0.3')
    .option('--delay-rate <share>', 'share of webhook deliveries held back (reordered)', '0.3')
    .option('--max-delay-ms <ms>', 'longest hold of a webhook delivery', '2000')
    .option('--bank-share <share>', 'share of payments made by bank (pending, settled by the portal later)', '0.1')
    .option('--pay-concurrency <n>', 'customers paying at the same time', '8')
    .option('--storm-seconds <n>', 'how long the storm lasts at most once the least number of kills is reached (it also ends when every payment is made)', '240')
    .option('--converge-timeout <seconds>', 'how long to wait after the storm for everything to settle', '420')
    .option('--seed <n>', 'random seed (kills, faults schedule, amounts, proxy)', String(Date.now() % 1_000_000))
    .option('--tax-arithmetic <mode>', "the portal's tax arithmetic: float (every other invoice has a tax it rounds a cent off, which the sync corrects) or exact", 'float');
  return optionsOrExit(program, optionsSchema, argv);
}

const log = (s: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);

async function main(): Promise<number> {
  const o = parseOptions(process.argv);
  const random = seededRandom(o.seed);
  const started = Date.now();
  log(`chaos: ${o.payments} payments over ${o.invoices} invoices, >= ${o.kills} kills, seed ${o.seed}, ${o.taxArithmetic} tax arithmetic; load average ${os.loadavg()[0].toFixed(1)}`);

  const temporal = await startOwnTemporal();
  onInterrupt(() => temporal.stop());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-chaos-'));
  const bundlePath = await buildWorkflowBundle(path.join(dir, 'workflow-bundle.js'));
  const proxy = await startWebhookProxy({ duplicateRate: 0, delayRate: 0, maxDelayMs: o.maxDelayMs }, random);
  const stack = await startBenchStack({
    temporalAddress: temporal.address,
    bundlePath,
    worker: false,
    publicUrl: proxy.url,
    pendingSettleMs: 3000,
    settings: { polling: { paymentsInterval: '2s', viewsInterval: '5s' } },
  });
  proxy.setTarget(stack.apiUrl);
  // The worker as `npm start` runs it, with its V8 heap limit (on Node's default heap the last worker of a run grew to
  // 770 MiB resident; with the limit, 470 MiB).
  const worker = new ChildWorker(stack.client, { ...stack.workerEnv, ...workerHeapEnv(stack.config.env.WORKER_HEAP_MB) });
  onInterrupt(() => worker.kill());
  let exit = 1;
  try {
    await worker.start();
    await bootstrap(stack);
    const customers = await createCustomers(stack, o.customers, 'X');
    log(`stack up (Temporal ${temporal.address}, API ${stack.apiUrl} behind ${proxy.url}), worker pid ${worker.pid}`);

    // The storm starts before the first invoice is posted.
    const storm = startStorm(stack, worker, proxy, o, random);
    stack.portal.admin.setTaxArithmetic(o.taxArithmetic);
    const invoiceNumbers = await postInvoices(stack, o.invoices, customers, { chunk: 50, oddTaxEvery: o.taxArithmetic === 'float' ? 2 : undefined });
    log(`${invoiceNumbers.length} invoices posted in the ERP; customers pay as their invoices reach the portal`);
    const made = await makePayments(stack, invoiceNumbers, o, random);
    log(`${made.length} payments made on the pay page; ${storm.kills()} kills so far`);
    await storm.paymentsDone();
    log(`${worker.starts} worker starts in all; waiting for the dust to settle`);

    const settleStart = Date.now();
    await settle(stack, made, invoiceNumbers, o.convergeTimeout * 1000);
    const settleSeconds = (Date.now() - settleStart) / 1000;
    const verdict = await verify(stack, made, invoiceNumbers, storm.calmSinceMs());
    await proxy.close();

    const failed =
      verdict.lost.length +
      verdict.duplicated.length +
      verdict.balanceMismatches.length +
      verdict.totalMismatches.length +
      verdict.duplicatePortalInvoices.length +
      verdict.stuck.length;
    const rows: Array<[string, string | number]> = [
      ['payments made', verdict.payments],
      ['posted exactly once', verdict.postedOnce],
      ['lost', verdict.lost.length],
      ['posted more than once', verdict.duplicated.length],
      ['parked with a reason', verdict.parked.length],
      ['invoices', verdict.invoices],
      ['balance disagreements', verdict.balanceMismatches.length],
      ['total disagreements', verdict.totalMismatches.length],
      ['portal invoices with a Rounding line', verdict.withRoundingLine],
      ['duplicate portal invoices', verdict.duplicatePortalInvoices.length],
      ['stuck workflows', verdict.stuck.length],
      ['activities retrying storm-time failures', verdict.retryingStormFailures.length],
      ['worker SIGKILLs', storm.kills()],
      ['429 bursts', storm.bursts()],
      ['webhooks received / held / duplicated', `${proxy.stats.received} / ${proxy.stats.delayed} / ${proxy.stats.duplicates}`],
      ['webhook answers not 2xx (incl. copies)', proxy.stats.refused],
      ['API requests to BC / portal', `${stack.requests.bc} / ${stack.requests.portal}`],
      ['settle time after the storm', `${settleSeconds.toFixed(0)} s`],
      ['total time', `${((Date.now() - started) / 1000).toFixed(0)} s`],
    ];
    const width = Math.max(...rows.map((r) => r[0].length));
    process.stdout.write(`\n${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n`);
    for (const p of verdict.parked.slice(0, 20)) process.stdout.write(`parked: ${p.paymentId} ${p.stage} ${p.reason}\n`);
    for (const id of verdict.lost.slice(0, 20)) process.stdout.write(`lost: ${id}\n`);
    for (const id of verdict.duplicated.slice(0, 20)) process.stdout.write(`posted more than once: ${id}\n`);
    for (const r of proxy.stats.refusals) process.stdout.write(`webhook answered ${r.status}: ${r.path} ${r.answer}\n`);
    for (const m of verdict.totalMismatches.slice(0, 20)) process.stdout.write(`total disagreement: ${m.invoiceNumber} ERP ${m.erpTotal} portal ${m.portalTotal}\n`);
    for (const m of verdict.balanceMismatches.slice(0, 20)) {
      process.stdout.write(`disagreement: ${m.invoiceNumber} ERP ${m.erpRemaining} portal ${m.portalBalance}\n  ${JSON.stringify(m.diagnosis)}\n`);
    }
    for (const s of verdict.stuck.slice(0, 20)) process.stdout.write(`stuck: ${s.workflowId}: ${s.why}\n`);
    for (const r of verdict.retryingStormFailures.slice(0, 20)) process.stdout.write(`retrying: ${r.workflowId}: ${r.activity} attempt ${r.attempt}, ${r.state}\n`);
    process.stdout.write(`${JSON.stringify({ chaos: 'arsync', params: o, verdict: { ...verdict, kills: storm.kills(), bursts: storm.bursts(), proxy: proxy.stats, settleSeconds } })}\n`);
    exit = failed > 0 ? 1 : 0;
    process.stdout.write(exit === 0 ? 'PASS: nothing lost, nothing posted twice, both systems agree\n' : 'FAIL: see above\n');
  } finally {
    await worker.stop().catch(() => undefined);
    await stack.close().catch((err) => log(`closing the stack: ${String(err)}`));
    await temporal.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return exit;
}

interface Storm {
  kills(): number;
  bursts(): number;
  /**
   * Every payment is made: the storm ends as soon as the least number of kills is reached (it also ends by itself after
   * --storm-seconds). Resolves once faults are off and the worker runs.
   */
  paymentsDone(): Promise<void>;
  /** When the faults went off and the worker ran again (after `paymentsDone`). */
  calmSinceMs(): number;
}

/** Worker kills at random intervals, faults on both systems, 429 bursts, bad webhook delivery. */
function startStorm(stack: BenchStack, worker: ChildWorker, proxy: Awaited<ReturnType<typeof startWebhookProxy>>, o: Options, random: () => number): Storm {
  const faults = { errorRate: o.errorRate, timeoutRate: o.timeoutRate, timeoutMs: o.timeoutMs, retryAfterSeconds: 1 };
  stack.bc.faults.configure(faults);
  stack.portal.faults.configure(faults);
  proxy.chaos.duplicateRate = o.duplicateRate;
  proxy.chaos.delayRate = o.delayRate;
  const t0 = Date.now();
  let paymentsMade = false;
  let bursts = 0;
  let calmSince = Number.POSITIVE_INFINITY;
  const raging = () => worker.kills < o.kills || (!paymentsMade && Date.now() - t0 < o.stormSeconds * 1000);
  const pause = (lo: number, hi: number) => sleep((lo + random() * (hi - lo)) * 1000);

  const killer = (async () => {
    while (raging()) {
      await pause(o.killEvery[0], o.killEvery[1]);
      await worker.kill();
      if (worker.kills % 5 === 0) log(`${worker.kills} worker kills`);
      await sleep(random() * 1500);
      for (let attempt = 1; ; attempt++) {
        try {
          await worker.start();
          break;
        } catch (err) {
          log(`worker restart ${attempt} failed: ${(err as Error).message.slice(0, 300)}`);
          if (attempt >= 5) throw err;
        }
      }
    }
  })();
  const burster = (async () => {
    while (raging()) {
      await pause(5, 15);
      if (!raging()) break;
      const target = random() < 0.5 ? stack.bc.faults : stack.portal.faults;
      target.configure({ throttleNext: 10 + Math.floor(random() * 20) });
      bursts++;
    }
  })();
  const over = (async () => {
    await killer;
    await burster;
    const calm = { errorRate: 0, timeoutRate: 0, throttleNext: 0 };
    stack.bc.faults.configure(calm);
    stack.portal.faults.configure(calm);
    proxy.chaos.duplicateRate = 0;
    proxy.chaos.delayRate = 0;
    if (!worker.running) await worker.start();
    calmSince = Date.now();
    log(`storm over after ${((Date.now() - t0) / 1000).toFixed(0)} s: ${worker.kills} kills, ${bursts} 429 bursts; faults off`);
  })();
  return {
    kills: () => worker.kills,
    bursts: () => bursts,
    async paymentsDone() {
      paymentsMade = true;
      await over;
    },
    calmSinceMs: () => calmSince,
  };
}

/** Stages an invoice reaches once its link went out. */
const LINK_OUT = new Set(['link_sent', 'viewed', 'partially_paid', 'paid', 'posted']);
const LINK_WAIT_MS = 180_000;

async function linkWentOut(stack: BenchStack, number: string): Promise<boolean> {
  const handle = stack.client.workflow.getHandle(invoiceWorkflowId(stack.ops.companyId, number));
  for (const deadline = Date.now() + LINK_WAIT_MS; Date.now() < deadline; await sleep(500)) {
    const stage = await handle.describe().then(
      (d) => d.typedSearchAttributes.get(Stage),
      () => undefined,
    );
    if (stage && LINK_OUT.has(stage)) return true;
  }
  return false;
}

/**
 * Customers pay on the pay page as soon as their link arrives: each invoice gets its share of the payments,
 * one after another a few seconds apart (the page reads the balance), `--pay-concurrency` customers at once. Every other
 * invoice is paid off by its last payment, so some invoices close.
 */
async function makePayments(stack: BenchStack, invoiceNumbers: string[], o: Options, random: () => number): Promise<MadePayment[]> {
  const portal = stack.deps.portals.client('default');
  const made: MadePayment[] = [];
  const base = Math.floor(o.payments / invoiceNumbers.length);
  const extra = o.payments % invoiceNumbers.length;
  let lastLog = Date.now();
  await forEachLimit(invoiceNumbers, o.payConcurrency, async (number, i) => {
    const count = base + (i < extra ? 1 : 0);
    if (count === 0) return;
    // The customer pays once the link has reached them, as a real one would: the invoice workflow says so in its
    // Stage (read by describe, which needs no worker). One whose link never goes out is never paid.
    if (!(await linkWentOut(stack, number))) {
      log(`the link of ${number} did not go out within ${LINK_WAIT_MS / 1000} s: not paid`);
      return;
    }
    let inv = await retrying(async () => {
      const found = await portal.findInvoiceByNumber(number);
      if (!found || !found.invitations[0]) throw new Error(`invoice ${number} not in the portal yet`);
      return found;
    }, `portal invoice ${number}`, 1000);
    const total = parseDecimal(stack.bc.admin.getInvoice(number).totalIncludingTax, 'USD');
    const part = Math.max(1, Math.floor(total / (count + 2)));
    for (let k = 0; k < count; k++) {
      if (k > 0) await sleep(1000 + random() * 2000);
      const last = k === count - 1 && i % 2 === 0;
      if (last) inv = await retrying(() => portal.getInvoice(inv.id), `portal invoice ${number}`);
      const amountMinor = last ? inv.balance.minor : part;
      if (amountMinor <= 0) continue;
      const method = random() < o.bankShare ? 'bank' : 'card';
      try {
        const { paymentId } = await pay(stack, inv, formatDecimal(amountMinor, 'USD'), method);
        made.push({ paymentId, invoiceNumber: number, amount: formatDecimal(amountMinor, 'USD'), method });
      } catch (err) {
        log(`payment on ${number} not accepted by the pay page: ${(err as Error).message}`);
      }
      if (Date.now() - lastLog > 15_000) {
        log(`${made.length} payments made`);
        lastLog = Date.now();
      }
    }
  });
  return made;
}

/**
 * Waits until every payment is in the ERP or held by its workflow with a reason, no payment workflow runs otherwise,
 * and every invoice the ERP has paid in full has ended (posted): the last payment of an invoice completes a moment
 * before the invoice has acted on its signal, and the search attributes read here lag the workflows a little, so all
 * of it must hold on two reads in a row. What never gets there within the timeout is the verdict's to report.
 */
async function settle(stack: BenchStack, made: MadePayment[], invoiceNumbers: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastLog = 0;
  let quietReads = 0;
  for (;;) {
    const posted = new Set(stack.bc.admin.listLedgerEntries().filter((e) => e.documentType === 'Payment').map((e) => e.externalDocumentNumber));
    const missing = made.filter((p) => !posted.has(p.paymentId)).length;
    const running = (await stack.client.workflow.count(`WorkflowType = 'portalPayment' AND ExecutionStatus = 'Running' AND Stage != 'needs_attention'`)).count;
    const paidInErp = paidInFullInErp(stack, invoiceNumbers);
    let lagging = 0;
    let atPaid = 0;
    for await (const wf of stack.client.workflow.list({ query: `WorkflowType = 'invoiceLifecycle' AND ExecutionStatus = 'Running'` })) {
      if (paidInErp.has(wf.workflowId)) lagging++;
      if (wf.typedSearchAttributes.get(Stage) === 'paid') atPaid++;
    }
    quietReads = missing === 0 && running === 0 && lagging === 0 && atPaid === 0 ? quietReads + 1 : 0;
    if (quietReads >= 2) return;
    if (Date.now() > deadline) {
      log(`gave up waiting: ${missing} payments not in the ERP, ${running} payment workflows running, ${lagging} invoices paid in the ERP still running`);
      return;
    }
    if (Date.now() - lastLog > 15_000) {
      log(`settling: ${missing} payments not in the ERP yet, ${running} payment workflows running, ${lagging} invoices paid in the ERP still running`);
      lastLog = Date.now();
    }
    await sleep(2000);
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

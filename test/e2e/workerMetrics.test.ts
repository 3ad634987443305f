import axios from 'axios';
import { invoiceState } from '../../src/operations/invoices';
import { eventually } from '../support/stack';
import { payInFull, paymentAt, postErpInvoice, startKillableStack, type KillableStack } from './paymentFixtures';

// The production worker process (workers/main.ts) exports business counters with the SDK's metrics on its Prometheus
// endpoint: payments and invoices entering each stage, links sent per channel.

let k: KillableStack;
beforeAll(async () => {
  k = await startKillableStack();
}, 90000);
afterAll(async () => {
  await k?.close();
});

/** The sum of a counter's samples whose labels include all of `labels` (Prometheus text format). */
async function counter(name: string, labels: Record<string, string>): Promise<number> {
  const text = (await axios.get(k.worker().metricsUrl, { responseType: 'text' })).data as string;
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{([^}]*)\} ([0-9.e+]+)$/.exec(line);
    if (!m || (m[1] !== name && m[1] !== `${name}_total`)) continue;
    if (Object.entries(labels).every(([key, value]) => m[2]!.includes(`${key}="${value}"`))) sum += Number(m[3]);
  }
  return sum;
}

describe('worker metrics', () => {
  it('counts a payment posted, its invoice reaching link_sent and posted, and the links sent', async () => {
    const before = {
      posted: await counter('arsync_payment_stage_changes', { stage: 'posted' }),
      invoicePosted: await counter('arsync_invoice_stage_changes', { stage: 'posted' }),
    };
    const inv = await postErpInvoice(k.s, 'C10000', '42.00');
    await eventually(async () => (await invoiceState(k.s.ops, inv.number)).linkSent, 10000, 'the link sent');
    const [{ paymentId }] = await payInFull(k.s, [inv]);
    await paymentAt(k.s, paymentId, 'posted');
    await eventually(async () => (await invoiceState(k.s.ops, inv.number)).stage === 'posted', 10000, 'the invoice posted');
    await eventually(async () => (await counter('arsync_payment_stage_changes', { stage: 'posted' })) === before.posted + 1, 10000, 'the payment counted');
    expect(await counter('arsync_invoice_stage_changes', { stage: 'posted' })).toBe(before.invoicePosted + 1);
    expect(await counter('arsync_invoice_stage_changes', { stage: 'link_sent' })).toBeGreaterThanOrEqual(1);
    expect(await counter('arsync_links_sent', { channel: 'email' })).toBeGreaterThanOrEqual(1);
    // The SDK's own metrics are on the same endpoint.
    const text = (await axios.get(k.worker().metricsUrl, { responseType: 'text' })).data as string;
    expect(text).toMatch(/^temporal_workflow_completed/m);
  });
});

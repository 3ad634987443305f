import { parseDecimal } from '../../src/domain/money';
import { resolve } from '../../src/operations/payments';
import type { TestStack } from '../support/stack';
import { startHoldingProxy, type HoldingProxy } from '../support/workerProcess';
import { eventually } from '../support/stack';
import { journalQueue, ledger, payInFull, paymentAt, postErpInvoice, startPaymentStack, unpostedLines } from './paymentFixtures';

// One bad payment in a group commit: Business Central posts a batch all or nothing, so a posting error rolls back the
// whole group. The journal poster then commits each payment on its own: the good ones are posted, only the bad one is
// rejected (needs_attention erp_rejected), and once the cause is fixed finance retries it. The worker reaches the ERP
// through a proxy that slows the first post down, so the next payments queue into one group behind it.

let s: TestStack;
let proxy: HoldingProxy;
beforeAll(async () => {
  proxy = await startHoldingProxy();
  s = await startPaymentStack({
    env: { BC_BASE_URL: proxy.url },
    beforeSetup: async (st) => {
      proxy.target = st.bc.url;
    },
  });
}, 60000);
afterAll(async () => {
  await s?.close();
  await proxy?.close();
});

it('a posting Business Central refuses fails only its own payment; the rest of the group is posted', async () => {
  const [a1, a2, a3] = await Promise.all(['61.00', '62.00', '63.00'].map((a) => postErpInvoice(s, 'C10000', a)));
  const b1 = await postErpInvoice(s, 'C20000', '64.00');

  proxy.delayPostsMs = 1500;
  const [first] = await payInFull(s, [a1!]);
  await eventually(() => proxy.held > 0, 15000, 'the first group in its post call');
  // Meanwhile C20000 is blocked in the ERP: its payment's line can be written but not posted.
  s.bc.admin.updateCustomer('C20000', { blocked: 'All' });
  const rest = await Promise.all([a2!, a3!, b1].map(async (inv) => (await payInFull(s, [inv]))[0]!));
  proxy.delayPostsMs = 0;

  const bad = await paymentAt(s, rest[2]!.paymentId, 'needs_attention', 30000);
  expect(bad.attention?.reason).toBe('erp_rejected');
  expect(bad.attention?.detail).toMatch(/blocked/);
  for (const p of [first!, rest[0]!, rest[1]!]) {
    await paymentAt(s, p.paymentId, 'posted', 30000);
    expect(ledger(s, p.paymentId).map((e) => parseDecimal(e.amount, 'USD'))).toEqual([-p.inv.totalMinor]);
  }
  expect(ledger(s, rest[2]!.paymentId)).toEqual([]);
  expect(await unpostedLines(s)).toEqual([]);
  // The three later payments went to the ERP as one group first.
  expect((await journalQueue(s)).largestGroup).toBeGreaterThanOrEqual(3);

  // Fixed in the ERP, retried by finance: posted once.
  s.bc.admin.updateCustomer('C20000', { blocked: '' });
  await resolve(s.ops, 'default', rest[2]!.paymentId, { action: 'retry', by: 'finance@cronus.example', why: 'customer unblocked' });
  await paymentAt(s, rest[2]!.paymentId, 'posted');
  expect(ledger(s, rest[2]!.paymentId).map((e) => parseDecimal(e.amount, 'USD'))).toEqual([-b1.totalMinor]);
  expect(await unpostedLines(s)).toEqual([]);
});

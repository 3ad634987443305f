import { parseDecimal } from '../../src/domain/money';
import { eventually } from '../support/stack';
import { ledger, payInFull, paymentAt, postErpInvoice, postingAttempts, startKillableStack, unpostedLines, type KillableStack } from './paymentFixtures';

// The worker runs as its own process (workers/main.ts) against this test's sandboxes, reaching the ERP through a proxy
// that holds journal post calls. It is SIGKILLed after writing the payments' journal lines and before posting them,
// then started again: every payment ends with exactly one posting and nothing is left in the batch.

let k: KillableStack;
beforeAll(async () => {
  k = await startKillableStack();
}, 60000);
afterAll(async () => {
  await k?.close();
});

it('SIGKILL between creating the journal lines and posting them: exactly one posting per payment after a restart', async () => {
  const { s, proxy } = k;
  const invoices = await Promise.all(['41.00', '42.00', '43.00'].map((a) => postErpInvoice(s, 'C10000', a)));
  proxy.holdPosts = true;
  const paid = await payInFull(s, invoices);
  // The poster wrote lines and is stuck in the post call: the lines sit unposted in the batch.
  const lines = await eventually(async () => {
    const l = await unpostedLines(s);
    return proxy.held > 0 && l.length > 0 && l;
  }, 20000, 'journal lines written and the post held');
  expect(lines.every((l) => paid.some((p) => p.paymentId === l.externalDocumentNumber))).toBe(true);
  expect(paid.every((p) => ledger(s, p.paymentId).length === 0)).toBe(true);

  await k.killAndRestart(() => {
    proxy.holdPosts = false;
  });

  for (const p of paid) {
    // Posted by this run, or found already posted in the ERP by a later look (the restarted poster may win the race):
    // either way the ledger below must hold exactly one entry.
    const state = await paymentAt(s, p.paymentId, 'posted', 45000);
    expect(state.stage).toBe('posted');
    const entries = ledger(s, p.paymentId);
    expect(entries).toHaveLength(1);
    expect(parseDecimal(entries[0]!.amount, 'USD')).toBe(-p.inv.totalMinor);
  }
  expect(await unpostedLines(s)).toEqual([]);
  // The interrupted group was retried by the new process (after the heartbeat timeout), reusing its lines.
  expect(Math.max(...(await postingAttempts(s)))).toBeGreaterThan(1);
}, 60000);

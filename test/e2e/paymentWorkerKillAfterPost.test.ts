import { parseDecimal } from '../../src/domain/money';
import { eventually } from '../support/stack';
import { ledger, payInFull, paymentAt, postErpInvoice, postingAttempts, startKillableStack, unpostedLines, type KillableStack } from './paymentFixtures';

// The worker runs as its own process; the proxy in front of the ERP lets a journal post through but swallows the
// answer, and the worker is SIGKILLed while it waits for it. The restarted worker finds the posting by external
// document number and posts nothing twice (only the part the first attempt had not reached, the gateway fee).

let k: KillableStack;
beforeAll(async () => {
  k = await startKillableStack();
}, 60000);
afterAll(async () => {
  await k?.close();
});

it('SIGKILL after the ERP posted but before the worker heard: the retry finds the posting and posts nothing twice', async () => {
  const { s, proxy } = k;
  const invoices = await Promise.all(['51.00', '52.00'].map((a) => postErpInvoice(s, 'C10000', a)));
  proxy.swallowPostAnswers = true;
  const paid = await payInFull(s, invoices);
  // The two payments may reach the poster together or one after the other: whichever batch goes first is swallowed.
  await eventually(() => proxy.held > 0 && paid.some((p) => ledger(s, p.paymentId).length > 0), 20000, 'the ERP to post without answering');

  await k.killAndRestart(() => {
    proxy.swallowPostAnswers = false;
  });

  for (const p of paid) {
    await paymentAt(s, p.paymentId, 'posted', 45000);
    const entries = ledger(s, p.paymentId);
    expect(entries).toHaveLength(1);
    expect(parseDecimal(entries[0]!.amount, 'USD')).toBe(-p.inv.totalMinor);
    // The gateway fee (general journal) is on the fee account exactly once as well.
    const fees = (await s.deps.bc.findGeneralLedgerEntries(p.paymentId)).filter((e) => e.accountNumber === s.config.settings.payments.feeAccountNo);
    expect(fees.reduce((sum, e) => sum + e.credit.minor - e.debit.minor, 0)).toBe(p.feeMinor);
  }
  expect(await unpostedLines(s)).toEqual([]);
  expect(Math.max(...(await postingAttempts(s)))).toBeGreaterThan(1);
}, 60000);

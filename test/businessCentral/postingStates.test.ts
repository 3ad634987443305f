import type { ActivityDeps } from '../../activities/deps';
import { erpPostingState, erpPostingStates, erpPostingStateWithGeneral } from '../../activities/erp';
import { postGroup } from '../../activities/journal';
import type { JournalLineRequest } from '../../activities/journalTypes';
import { createBusinessCentralSandbox, type BusinessCentralSandbox } from '../../src/sandbox/businessCentral';
import { reversalKey } from '../../workflows/portalPayment';
import { clientFor, CREDENTIALS } from './harness';

// What the ERP has of several portal payments (posted? reversed how often?), read together by the ERP mirror: the same
// answer as one read per payment, in fewer requests.
describe('posting states of several payments', () => {
  let sandbox: BusinessCentralSandbox;
  let deps: ActivityDeps;
  let requests = 0;
  let invoiceReads = 0;

  beforeAll(async () => {
    sandbox = await createBusinessCentralSandbox({ ...CREDENTIALS, notificationDelayMs: 0 });
    sandbox.app.addHook('onRequest', async (req) => {
      if (req.url.includes('customerLedgerEntries')) requests++;
      if (req.url.includes('/salesInvoices')) invoiceReads++;
    });
    await sandbox.listen(0);
    deps = { bc: clientFor(sandbox) } as unknown as ActivityDeps;
  });
  afterAll(async () => {
    await sandbox.close();
  });

  it('reads five payments per query, reads on for one reversed more often than read ahead, and answers as one read each', async () => {
    const invoices = sandbox.admin.postInvoices(
      Array.from({ length: 12 }, () => ({ customerNumber: 'C10000', lines: [{ description: 'Service', quantity: 1, unitPrice: '100.00', taxPercent: '0' }] })),
    );
    let next = 0;
    const entry = (externalDocumentNumber: string, amount = '10.00') => sandbox.admin.recordPayment({ invoiceNumber: invoices[next++]!.number, amount, externalDocumentNumber });
    const ids = ['ps-plain', 'ps-once', 'ps-often', 'ps-none', 'ps-a', 'ps-b'];
    entry('ps-plain', '30.00');
    entry('ps-once', '20.00');
    entry(reversalKey('ps-once', 1), '5.00');
    entry('ps-often', '40.00');
    for (let n = 1; n <= 4; n++) entry(reversalKey('ps-often', n), '1.00');
    entry('ps-a');
    entry('ps-b');

    await erpPostingState(deps, 'ps-warm-up'); // the company's currency is read once per client
    requests = 0;
    const together = await erpPostingStates(deps, [...ids, 'ps-a']);
    // 6 payments × 4 keys = 24 keys: two queries; "ps-often" has all three reversal keys read ahead taken: one more.
    expect(requests).toBe(3);

    requests = 0;
    const oneByOne = new Map<string, Awaited<ReturnType<typeof erpPostingState>>>();
    for (const id of ids) oneByOne.set(id, await erpPostingState(deps, id));
    expect(requests).toBe(7);

    expect([...together.keys()].sort()).toEqual([...ids].sort());
    for (const id of ids) expect(together.get(id)).toEqual(oneByOne.get(id));
    expect(together.get('ps-none')).toMatchObject({ posted: false, reversed: false, reversals: 0 });
    expect(together.get('ps-plain')).toMatchObject({ posted: true, postedMinor: 3000, reversed: false, customerNumber: 'C10000' });
    expect(together.get('ps-once')).toMatchObject({ posted: true, postedMinor: 2000, reversed: true, reversals: 1, reversedMinor: 500 });
    expect(together.get('ps-often')).toMatchObject({ posted: true, postedMinor: 4000, reversals: 4, reversedMinor: 400 });

    // Separate activities asking at the same moment (payment intakes under load): their reads go out together, each
    // answered as if it had read alone.
    requests = 0;
    const atOnce = await Promise.all(ids.map((id) => erpPostingState(deps, id)));
    // 24 keys, 20 to a query (the sixth payment's in a second), and the one more for "ps-often"'s fourth reversal.
    expect(requests).toBe(3);
    ids.forEach((id, i) => expect(atOnce[i]).toEqual(oneByOne.get(id)));
  });

  it('answers invoice lookups asked at the same moment with one query, each with its own invoice', async () => {
    const posted = sandbox.admin.postInvoices(
      Array.from({ length: 5 }, () => ({ customerNumber: 'C10000', lines: [{ description: 'Service', quantity: 1, unitPrice: '12.00', taxPercent: '0' }] })),
    );
    invoiceReads = 0;
    const numbers = [...posted.map((i) => i.number), 'NO-SUCH-INVOICE'];
    const found = await Promise.all(numbers.map((n) => deps.bc.getSalesInvoiceByNumber(n, { lines: false })));
    expect(invoiceReads).toBe(1);
    expect(found.map((inv) => inv?.number ?? null)).toEqual([...posted.map((i) => i.number), null]);
    expect(found.slice(0, 5).every((inv) => inv!.totalIncludingTax.minor === 1200)).toBe(true);
  });

  it('reads the fee lines of a posting and the reversals of them from the G/L entries, counting a fee-only reversal as a key taken', async () => {
    const [inv] = sandbox.admin.postInvoices([{ customerNumber: 'C10000', lines: [{ description: 'Service', quantity: 1, unitPrice: '70.00', taxPercent: '0' }] }]);
    const settings = { payments: { journalBatch: 'ARSYNC', generalJournalBatch: 'REFUNDS' } };
    const line = (kind: JournalLineRequest['kind'], amountMinor: number, more: Partial<JournalLineRequest> = {}): JournalLineRequest => ({
      kind, customerNumber: 'C10000', amountMinor, currency: 'USD', description: `ps-fee ${kind}`, ...more,
    });
    const post = async (externalDocumentNumber: string, lines: JournalLineRequest[]) => {
      const [r] = await postGroup({ bc: deps.bc, settings } as unknown as ActivityDeps, 'ARSYNC', [{ externalDocumentNumber, postingDate: '2026-01-15', balancingAccountNo: '10200', lines }]);
      expect(r!.status).toBe('posted');
    };
    // 100.00 received: 70.00 applied, 30.00 on the fee account (balanced against the card clearing account).
    await post('ps-fee', [line('applied', 7000, { invoiceNumber: inv!.number }), line('fee', 3000, { account: '65100' })]);
    const feeLines = [{ account: '65100', balancingAccount: '10200', amountMinor: 3000 }];
    expect(await erpPostingStateWithGeneral(deps, 'ps-fee')).toMatchObject({ posted: true, postedMinor: 7000, reversals: 0, general: { feeLines, feeReversedMinor: 0 } });

    // The fee taken back alone: no customer entry, yet <id>-R is taken.
    await post(reversalKey('ps-fee', 1), [line('fee_reversal', 3000, { account: '65100', balancingAccount: '10200' })]);
    expect((await erpPostingState(deps, 'ps-fee')).reversals).toBe(0); // the customer entries alone do not show it
    expect(await erpPostingStateWithGeneral(deps, 'ps-fee')).toMatchObject({ reversals: 1, reversedMinor: 0, general: { feeLines, feeReversedMinor: 3000 } });

    // Then the customer part, under the next key.
    await post(reversalKey('ps-fee', 2), [line('reversal', 7000)]);
    expect(await erpPostingStateWithGeneral(deps, 'ps-fee')).toMatchObject({ reversals: 2, reversed: true, reversedMinor: 7000, general: { feeLines, feeReversedMinor: 3000 } });
  });

  it('asks nothing for no payments', async () => {
    requests = 0;
    expect((await erpPostingStates(deps, [])).size).toBe(0);
    expect(requests).toBe(0);
  });
});

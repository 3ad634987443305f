import { generalDocumentNumber } from '../../src/adapters/businessCentral';
import { parseDecimal } from '../../src/domain/money';
import { paymentState } from '../../src/operations/payments';
import { eventually, type TestStack } from '../support/stack';
import { apiPayment, ledger, ledgerSum, paymentAt, postErpInvoice, sleep, startPaymentStack } from './paymentFixtures';

// A portal payment posted with an excess on the fee account ("Disallow Overpayments", a fee account and a fee cap), then
// taken back in the portal: the ERP reversal mirrors the lines that were posted, the fee line on the fee account and
// the customer part on the customer, under <id>-R, <id>-R2, … (docs/ARCHITECTURE.md, data flow 2).

let s: TestStack;
beforeAll(async () => {
  // The ERP payments these tests record leave the invoice with less to pay than the portal payment brings (the
  // excess): the ERP watcher must not mirror them into the portal first (its hourly poll does not come in a test).
  // The fee cap lets the excess go to the fee account (by default an overpayment is credited to the customer).
  s = await startPaymentStack({ settings: { polling: { erpLedgerInterval: '1h' }, payments: { feeCap: { maxMinor: 100000 } } } });
}, 60000);
afterAll(async () => {
  await s?.close();
});

const today = () => new Date().toISOString().slice(0, 10);
const fee = () => s.config.settings.payments.feeAccountNo!;
const glOf = (ext: string) => s.deps.bc.findGeneralLedgerEntries(generalDocumentNumber(ext));
/** Net credit of an account over the G/L entries of these keys' general documents, minor units. */
const glNet = async (account: string, ...exts: string[]) => {
  let net = 0;
  for (const ext of exts) for (const e of await glOf(ext)) if (e.accountNumber === account) net += e.credit.minor - e.debit.minor;
  return net;
};
const amounts = (ext: string) => ledger(s, ext).map((e) => parseDecimal(e.amount, 'USD'));

/** 100.00 paid in the portal to an invoice with 70.00 left in the ERP: 70.00 applied, 30.00 to the fee account. */
async function overpaid() {
  const inv = await postErpInvoice(s, 'C20000', '100.00');
  s.bc.admin.recordPayment({ invoiceNumber: inv.number, amount: '30.00' });
  const p = await apiPayment(s, inv.portalClientId, 10000, [{ invoiceId: inv.portalInvoiceId, amountMinor: 10000 }]);
  await paymentAt(s, p.id, 'posted', 20000);
  expect(amounts(p.id)).toEqual([-7000]);
  expect(await glNet(fee(), p.id)).toBe(3000);
  // The account the fee line's balancing entry debited (the reversal credits it back).
  const own = (await glOf(p.id)).sort((a, b) => a.entryNumber - b.entryNumber);
  const feeEntry = own.findIndex((e) => e.accountNumber === fee());
  return { inv, p, feeBalancing: own[feeEntry + 1]!.accountNumber };
}

describe('fee and excess lines of a posted payment taken back in the portal', () => {
  it('a void reverses the fee line on the fee account as well as the customer part, once', async () => {
    const { inv, p, feeBalancing } = await overpaid();
    await s.deps.portals.client('default').deletePayment(p.id); // delete_payment webhook
    const voided = await paymentAt(s, p.id, 'skipped', 20000);

    expect(voided.note).toBe('voided in the portal after posting: posting reversed');
    // The portal's read after the void has no invoices (its paymentables are deleted): the invoice the payment was on is
    // still the one told of the reversal.
    expect(await s.deps.portals.client('default').getPayment(p.id)).toMatchObject({ invoices: [] });
    expect(voided.context?.invoiceNumbers).toEqual([inv.number]);
    expect(voided.reversal).toEqual(expect.objectContaining({ status: 'posted', externalDocumentNumber: `${p.id}-R` }));
    // The customer nets to zero, and so does the fee account: no fee income that never arrived.
    expect(amounts(`${p.id}-R`)).toEqual([7000]);
    expect(ledgerSum(s, p.id) + ledgerSum(s, `${p.id}-R`)).toBe(0);
    expect(await glNet(fee(), p.id, `${p.id}-R`)).toBe(0);
    // The fee's reversal credits back the account its posting debited.
    const reversal = await glOf(`${p.id}-R`);
    expect(reversal).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ accountNumber: fee(), debit: expect.objectContaining({ minor: 3000 }) }),
        expect.objectContaining({ accountNumber: feeBalancing, credit: expect.objectContaining({ minor: 3000 }) }),
      ]),
    );

    // A late duplicate of the delete webhook takes nothing back twice.
    await s.deps.portals.client('default').deletePayment(p.id).catch(() => undefined);
    await sleep(1500);
    expect(await glOf(`${p.id}-R2`)).toEqual([]);
    expect(ledger(s, `${p.id}-R2`)).toEqual([]);
    expect(await glNet(fee(), p.id, `${p.id}-R`)).toBe(0);
  });

  it('a refund of the excess reverses it on the fee account, not the customer; a later void reverses the rest under <id>-R2', async () => {
    const { inv, p } = await overpaid();
    // Finance refunds the 30.00 overpaid (update_payment webhook).
    await s.deps.portals.client('default').refundPayment({ paymentId: p.id, currency: 'USD', date: today(), invoices: [{ invoiceId: inv.portalInvoiceId, amountMinor: 3000 }] });
    const refunded = await eventually(async () => {
      const st = await paymentState(s.ops, 'default', p.id);
      return st.reversal?.status === 'posted' && st;
    }, 20000, 'the refund reversed');

    expect(refunded.stage).toBe('posted');
    expect(refunded.reversal?.externalDocumentNumber).toBe(`${p.id}-R`);
    expect(refunded.decisions.map((d) => d.action)).toContain('reverse');
    // The customer paid 30.00 + 70.00 for a 100.00 invoice: nothing is debited back to the customer.
    expect(ledger(s, `${p.id}-R`)).toEqual([]);
    expect(ledgerSum(s, p.id)).toBe(-7000);
    expect(await glNet(fee(), p.id, `${p.id}-R`)).toBe(0);
    expect(parseDecimal(s.bc.admin.getInvoice(inv.number).remaining, 'USD')).toBe(0);

    // Voided afterwards: the customer part goes under the next key (the fee-only reversal took <id>-R).
    await s.deps.portals.client('default').deletePayment(p.id);
    const voided = await paymentAt(s, p.id, 'skipped', 20000);
    expect(voided.reversal?.externalDocumentNumber).toBe(`${p.id}-R2`);
    expect(amounts(`${p.id}-R2`)).toEqual([7000]);
    expect(ledgerSum(s, p.id) + ledgerSum(s, `${p.id}-R`) + ledgerSum(s, `${p.id}-R2`)).toBe(0);
    expect(await glNet(fee(), p.id, `${p.id}-R`, `${p.id}-R2`)).toBe(0);
  });

  it('an excess refunded (a fee-only <id>-R), then an adjustment pair reversing the payment: the customer part is reversed under <id>-R2', async () => {
    const inv = await postErpInvoice(s, 'C20000', '100.00');
    s.bc.admin.recordPayment({ invoiceNumber: inv.number, amount: '30.00' });
    const p = await apiPayment(s, inv.portalClientId, 10000, [{ invoiceId: inv.portalInvoiceId, amountMinor: 10000 }]);
    await paymentAt(s, p.id, 'posted', 20000);
    await s.deps.portals.client('default').refundPayment({ paymentId: p.id, currency: 'USD', date: today(), invoices: [{ invoiceId: inv.portalInvoiceId, amountMinor: 3000 }] });
    await eventually(async () => (await paymentState(s.ops, 'default', p.id)).reversal?.status === 'posted', 20000, 'the excess refund reversed');
    expect(amounts(`${p.id}-R`)).toEqual([]); // the excess came off the fee account only

    const n = await apiPayment(s, inv.portalClientId, -10000);
    const adjusted = await paymentAt(s, n.id, ['adjusted', 'refunded', 'needs_attention', 'skipped'], 30000);
    expect(adjusted.stage).toBe('adjusted');
    expect(adjusted.adjustmentPartner).toBe(p.id);
    // The customer's 70.00 is reversed under the next free key, not answered "already posted" under the fee-only one.
    expect(amounts(`${p.id}-R2`)).toEqual([7000]);
    expect(amounts(p.id).reduce((a, b) => a + b, 0) + ledgerSum(s, `${p.id}-R`) + ledgerSum(s, `${p.id}-R2`)).toBe(0);
  }, 90000);
});

import type { InInvoice } from '../../src/adapters/invoiceNinja';
import { customerState, setOptIn, syncCustomers } from '../../src/operations/customers';
import { startDriftSweep } from '../../src/operations/erpSync';
import { invoiceState } from '../../src/operations/invoices';
import type { ActivityDeps } from '../../activities';
import { erpWatcherWorkflowId } from '../../workflows/ids';
import { startExportPortalStack, type ExportPortalStack } from '../support/exportPortal';
import { eventually, type TestStack } from '../support/stack';

// "Use Customer-Specific Connections": a customer moved to another posting group keeps its invoices on the portal they
// were synced to. ERP payments on them are mirrored there, by the ERP watcher and by the drift sweep, whichever
// connection the customer's posting group (or its portal client) names now.

let x: ExportPortalStack;
let s: TestStack;
let deps: ActivityDeps;

beforeAll(async () => {
  x = await startExportPortalStack({ stack: { settings: { polling: { erpLedgerInterval: '400ms' } } } });
  ({ s, deps } = x);
  await setOptIn(s.ops, ['C40000'], { optedIn: true, by: 'test' });
}, 90000);
afterAll(() => x?.close());

const exportClient = () => deps.portals.client('EXPORT');
const defaultClient = () => deps.portals.client('default');

/** Posts a C40000 invoice in the ERP and waits for it on the given portal. */
async function postFor(connection: 'EXPORT' | 'default', amount: string): Promise<InInvoice> {
  const erp = s.bc.admin.postInvoice({ customerNumber: 'C40000', lines: [{ description: 'Ski rental', quantity: 1, unitPrice: amount, taxPercent: 0 }] });
  return eventually(async () => {
    const found = await deps.portals.client(connection).findInvoiceByNumber(erp.number);
    return found && found.invitations.length > 0 && found;
  }, 15000, `invoice ${erp.number} on the ${connection} portal`);
}
const balanceOn = async (connection: 'EXPORT' | 'default', inv: InInvoice) => (await deps.portals.client(connection).getInvoice(inv.id)).balance.minor;

let a: InInvoice;
let c: InInvoice;

describe('ERP payments on an invoice left on its old portal connection', () => {
  it('the ERP watcher mirrors them on the connection the invoice lives on, not the one of the new posting group', async () => {
    a = await postFor('EXPORT', '200.00');
    c = await postFor('EXPORT', '120.00');
    const first = s.bc.admin.recordPayment({ invoiceNumber: a.number, amount: '50.00' });
    await eventually(async () => (await balanceOn('EXPORT', a)) === 15000, 15000, 'the first ERP payment on the EXPORT portal');

    // The auditor's case: the customer moves to DOMESTIC (the default connection), then pays the rest in the ERP.
    s.bc.admin.updateCustomer('C40000', { postingGroup: 'DOMESTIC' });
    const rest = s.bc.admin.recordPayment({ invoiceNumber: a.number, amount: '150.00' });
    expect(s.bc.admin.getInvoice(a.number)).toMatchObject({ status: 'Paid' });

    const paid = await eventually(async () => {
      const p = await exportClient().getInvoice(a.id);
      return p.balance.minor === 0 && p;
    }, 15000, 'the EXPORT portal invoice paid in full');
    expect(paid.status).toBe('paid');
    const refs = (await exportClient().listClientPayments(a.clientId)).filter((p) => p.invoices.some((i) => i.invoiceId === a.id)).map((p) => p.transactionReference);
    expect(refs.sort()).toEqual([`erp:${first.entryNumber}`, `erp:${rest.entryNumber}`].sort());
    await eventually(async () => (await invoiceState(s.ops, a.number)).stage === 'posted', 15000, 'the invoice workflow posted');
    // Nothing reached the default portal.
    expect(await defaultClient().findClientByNumber('C40000')).toBeNull();
    expect(await defaultClient().findInvoiceByNumber(a.number)).toBeNull();
  });

  it('the drift sweep heals them there too, once the customer is synced onto the new connection', async () => {
    // The sweep, not the watcher, brings these payments over.
    await s.t.client.workflow.getHandle(erpWatcherWorkflowId(s.ops.companyId)).terminate('the drift sweep is under test');
    const [synced] = await syncCustomers(s.ops, ['C40000'], 'test');
    expect(synced).toMatchObject({ status: 'ready', connectionKey: 'default' });
    expect((await customerState(s.ops, 'C40000')).portal?.connectionKey).toBe('default');
    // A new invoice goes to the new connection; C stays on EXPORT.
    const b = await postFor('default', '80.00');
    const payC = s.bc.admin.recordPayment({ invoiceNumber: c.number, amount: '40.00' });
    const payB = s.bc.admin.recordPayment({ invoiceNumber: b.number, amount: '30.00' });

    const { done, report } = await startDriftSweep(s.ops, { by: 'test' }, { waitMs: 60000 });
    expect(done).toBe(true);
    const row = (n: string) => report.rows.find((r) => r.invoiceNumber === n);
    expect(row(c.number)).toMatchObject({ status: 'changed', decision: 'heal_portal', recordedMinor: 4000, references: [`erp:${payC.entryNumber}`] });
    expect(row(b.number)).toMatchObject({ status: 'changed', decision: 'heal_portal', recordedMinor: 3000, references: [`erp:${payB.entryNumber}`] });
    // The invoice paid in full on EXPORT is found there, in line.
    expect(report.inSyncInvoices).toContain(a.number);
    expect(await balanceOn('EXPORT', c)).toBe(8000);
    expect(await balanceOn('default', b)).toBe(5000);
    expect(await defaultClient().findInvoiceByNumber(c.number)).toBeNull();
    await eventually(async () => (await invoiceState(s.ops, c.number)).erpEntries.includes(payC.entryNumber), 10000, 'the invoice workflow told');
  });
});

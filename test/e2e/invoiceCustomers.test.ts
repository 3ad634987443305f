import axios from 'axios';
import type { InvoiceNinjaSandbox } from '../../src/sandbox/invoiceNinja/server';
import { parseDecimal } from '../../src/domain/money';
import { customerState, setOptIn, syncCustomers } from '../../src/operations/customers';
import { invoiceState, invoiceTimeline, listInvoices, resetInvoice } from '../../src/operations/invoices';
import { AttentionReason, Stage } from '../../src/temporal/searchAttributes';
import type { ActivityDeps } from '../../activities';
import { customerWorkflowId, invoiceWorkflowId } from '../../workflows/ids';
import { PORTAL_CLIENT_MEMO } from '../../workflows/customer';
import type { invoiceLifecycle } from '../../workflows/invoiceLifecycle';
import { startExportPortalStack, type ExportPortalStack } from '../support/exportPortal';
import { eventually, invoiceAt, type TestStack } from '../support/stack';

// Customers first: "Require Email Address" parks the invoice until the customer is fixed and resynced, a customer who
// is not opted in parks it until opt-in, and the customer posting group picks the portal connection (a second
// Invoice Ninja sandbox for EXPORT), falling back to the default connection.

let x: ExportPortalStack;
let s: TestStack;
let exportPortal: InvoiceNinjaSandbox;
let deps: ActivityDeps;

beforeAll(async () => {
  x = await startExportPortalStack({ settings: { attachments: { privateNames: ['^internal'] } } });
  ({ s, exportPortal, deps } = x);
}, 90000);
afterAll(() => x?.close());

const mail = async (to: string) => (await axios.get(`${s.sinks.httpUrl}/mail`, { params: { to } })).data as Array<{ subject: string; text: string }>;
const describeInvoice = (number: string) => s.t.client.workflow.getHandle(invoiceWorkflowId(s.ops.companyId, number)).describe();

describe('customers first', () => {
  it('require email: the invoice waits in needs_attention (missing_email) and resumes by itself once the customer is fixed and resynced', async () => {
    const [optIn] = await setOptIn(s.ops, ['C30000'], { optedIn: true, by: 'test' });
    expect(optIn.lastSync?.status).toBe('missing_email');
    expect(optIn.portal).toBeNull();

    const erp = s.bc.admin.postInvoice({ customerNumber: 'C30000', lines: [{ description: 'Life drawing course', quantity: 2, unitPrice: '180.00', taxPercent: '7' }] });
    const waiting = await invoiceAt(s, erp.number, 'needs_attention');
    expect(waiting.attention?.reason).toBe('missing_email');
    expect(waiting.attention?.detail).toContain('C30000');
    // Findable by operators: search attributes and the attention list.
    const d = await describeInvoice(erp.number);
    expect(d.typedSearchAttributes.get(Stage)).toBe('needs_attention');
    expect(d.typedSearchAttributes.get(AttentionReason)).toBe('missing_email');
    const attention = await eventually(async () => {
      const rows = await listInvoices(s.ops, { attention: true });
      return rows.find((r) => r.invoiceNumber === erp.number);
    }, 10000, 'the attention list');
    expect(attention.attentionReason).toBe('missing_email');
    // Nothing reached the portal: neither the customer nor the invoice.
    const portal = s.deps.portals.client('default');
    expect(await portal.findInvoiceByNumber(erp.number)).toBeNull();
    expect(await portal.findClientByNumber('C30000')).toBeNull();

    // Fix the customer in the ERP and "Sync Customer": the invoice resumes without being touched.
    s.bc.admin.updateCustomer('C30000', { email: 'office@fineart.example' });
    const [synced] = await syncCustomers(s.ops, ['C30000'], 'test');
    expect(synced.status).toBe('ready');
    const inPortal = await eventually(() => portal.findInvoiceByNumber(erp.number), 10000, 'the portal invoice');
    expect(inPortal.amount.minor).toBe(parseDecimal(erp.totalIncludingTax, 'USD'));
    const resumed = await invoiceAt(s, erp.number, 'link_sent');
    expect(resumed.attention).toBeNull();
    const after = await describeInvoice(erp.number);
    expect(after.typedSearchAttributes.get(Stage)).toBe('link_sent');
    expect(after.typedSearchAttributes.get(AttentionReason)).toBeUndefined();
    expect((await portal.findClientByNumber('C30000'))?.contacts[0]?.email).toBe('office@fineart.example');
    await eventually(async () => (await mail('office@fineart.example')).find((m) => m.text.includes(resumed.portal!.link)), 5000, 'the link email');
    const kinds = (await invoiceTimeline(s.ops, erp.number)).map((e) => e.kind);
    expect(kinds.indexOf('attention')).toBeLessThan(kinds.indexOf('synced'));
  });

  it('not opted in: the invoice waits with reason not_opted_in and resumes after opt-in', async () => {
    const c = s.bc.admin.createCustomer({ displayName: 'Northwind Traders', email: 'ap@northwind.example', phoneNumber: '+1 425 555 0199' });
    const erp = s.bc.admin.postInvoice({ customerNumber: c.number, lines: [{ description: 'Catering', quantity: 1, unitPrice: '250.00', taxPercent: '8.25' }] });
    const waiting = await invoiceAt(s, erp.number, 'needs_attention');
    expect(waiting.attention).toEqual({ reason: 'not_opted_in', detail: `customer ${c.number} is not opted in to the payment portal` });
    expect((await describeInvoice(erp.number)).typedSearchAttributes.get(AttentionReason)).toBe('not_opted_in');
    expect((await customerState(s.ops, c.number)).waitingInvoices).toEqual([invoiceWorkflowId(s.ops.companyId, erp.number)]);

    await setOptIn(s.ops, [c.number], { optedIn: true, by: 'test' });
    const resumed = await invoiceAt(s, erp.number, 'link_sent');
    expect(resumed.attention).toBeNull();
    expect(await s.deps.portals.client('default').findInvoiceByNumber(erp.number)).not.toBeNull();
    expect((await customerState(s.ops, c.number)).waitingInvoices).toEqual([]);
  });

  it('not opted in, then opted in without an email address: the waiting invoice shows missing_email at once, and resumes once the address is fixed', async () => {
    const c = s.bc.admin.createCustomer({ displayName: 'Tailspin Toys' });
    const erp = s.bc.admin.postInvoice({ customerNumber: c.number, lines: [{ description: 'Kites', quantity: 4, unitPrice: '12.50', taxPercent: '0' }] });
    await eventually(async () => (await invoiceState(s.ops, erp.number)).attention?.reason === 'not_opted_in', 10000, 'not_opted_in');

    const [optIn] = await setOptIn(s.ops, [c.number], { optedIn: true, by: 'test' });
    expect(optIn.lastSync?.status).toBe('missing_email');
    const parked = await eventually(async () => {
      const st = await invoiceState(s.ops, erp.number);
      return st.attention?.reason === 'missing_email' && st;
    }, 3000, 'the invoice told missing_email');
    expect(parked.stage).toBe('needs_attention');
    expect(parked.attention?.detail).toContain(c.number);
    expect(parked.timeline.filter((e) => e.kind === 'attention').map((e) => e.detail?.split(':')[0])).toEqual(['not_opted_in', 'missing_email']);
    await eventually(async () => (await describeInvoice(erp.number)).typedSearchAttributes.get(AttentionReason) === 'missing_email', 5000, 'the indexed reason');
    expect(await s.deps.portals.client('default').findInvoiceByNumber(erp.number)).toBeNull();

    s.bc.admin.updateCustomer(c.number, { email: 'ap@tailspin.example' });
    const [synced] = await syncCustomers(s.ops, [c.number], 'test');
    expect(synced.status).toBe('ready');
    expect((await invoiceAt(s, erp.number, 'link_sent')).attention).toBeNull();
  });

  it('paid in full in the ERP while waiting for opt-in: synced without a link (nothing is due), and the timeline says posted', async () => {
    const c = s.bc.admin.createCustomer({ displayName: 'Fabrikam Prepaid', email: 'ap@prepaid.example' });
    const erp = s.bc.admin.postInvoice({ customerNumber: c.number, lines: [{ description: 'Deposit', quantity: 1, unitPrice: '100.00', taxPercent: '0' }] });
    await eventually(async () => (await invoiceState(s.ops, erp.number)).attention?.reason === 'not_opted_in', 10000, 'not_opted_in');
    s.bc.admin.recordPayment({ invoiceNumber: erp.number, amount: '100.00' });
    await setOptIn(s.ops, [c.number], { optedIn: true, by: 'test' });
    const result = await s.t.client.workflow.getHandle<typeof invoiceLifecycle>(invoiceWorkflowId(s.ops.companyId, erp.number)).result();
    expect(result.stage).toBe('posted');
    const kinds = result.timeline.map((e) => e.kind);
    expect(kinds.filter((k) => k === 'link_sent' || k === 'link_failed')).toEqual([]);
    expect(result.linkSends).toBe(0);
    expect(result.timeline.filter((e) => e.kind === 'posted')).toEqual([expect.objectContaining({ amountMinor: 10000 })]);
    expect(kinds.indexOf('synced')).toBeLessThan(kinds.indexOf('posted'));
    await new Promise((r) => setTimeout(r, 1000));
    expect(await mail('ap@prepaid.example')).toEqual([]);
  });

  it('a ready customer publishes its portal client in its memo: later invoices sync without an Update; opting out withdraws it', async () => {
    const c = s.bc.admin.createCustomer({ displayName: 'Contoso Pharmacy', email: 'ap@contoso.example', phoneNumber: '+1 425 555 0142' });
    const handle = s.t.client.workflow.getHandle(customerWorkflowId(s.ops.companyId, c.number));
    const updates = async () => (await handle.fetchHistory()).events!.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length;
    const published = async () => (await handle.describe()).memo?.[PORTAL_CLIENT_MEMO] ?? null;
    const linkSent = (number: string) => invoiceAt(s, number, 'link_sent');

    await setOptIn(s.ops, [c.number], { optedIn: true, by: 'test' });
    const ready = await customerState(s.ops, c.number);
    expect(ready.portal).not.toBeNull();
    expect(await published()).toEqual({ connectionKey: ready.portal!.connectionKey, clientId: ready.portal!.clientId, autoBill: false });
    const before = await updates();

    const first = s.bc.admin.postInvoice({ customerNumber: c.number, lines: [{ description: 'Vaccines', quantity: 3, unitPrice: '40.00', taxPercent: '0' }] });
    const second = s.bc.admin.postInvoice({ customerNumber: c.number, lines: [{ description: 'Syringes', quantity: 1, unitPrice: '12.50', taxPercent: '0' }] });
    for (const inv of [first, second]) expect((await linkSent(inv.number)).portal).not.toBeNull();
    const portalInvoice = await s.deps.portals.client('default').findInvoiceByNumber(first.number);
    expect(portalInvoice?.clientId).toBe(ready.portal!.clientId);
    // Both synced from the memo: the customer workflow was not asked.
    expect(await updates()).toBe(before);

    // Opted out: the memo no longer offers the client, so the next invoice asks and waits.
    await setOptIn(s.ops, [c.number], { optedIn: false, by: 'test' });
    expect(await published()).toBeNull();
    const third = s.bc.admin.postInvoice({ customerNumber: c.number, lines: [{ description: 'Gloves', quantity: 2, unitPrice: '8.00', taxPercent: '0' }] });
    const waiting = await invoiceAt(s, third.number, 'needs_attention');
    expect(waiting.attention?.reason).toBe('not_opted_in');
    expect(await s.deps.portals.client('default').findInvoiceByNumber(third.number)).toBeNull();
  });

  it('a portal client deleted by staff: the invoice waits in needs_attention (portal_rejected) with the portal\'s words; "Sync Customer" restores the client and "Modify Sync Status" brings the invoice over', async () => {
    const c = s.bc.admin.createCustomer({ displayName: 'Litware Inc', email: 'ap@litware.example' });
    await setOptIn(s.ops, [c.number], { optedIn: true, by: 'test' });
    const clientId = (await customerState(s.ops, c.number)).portal!.clientId;
    const portal = s.deps.portals.client('default');
    await portal.bulkClients('delete', [clientId]);

    const erp = s.bc.admin.postInvoice({ customerNumber: c.number, lines: [{ description: 'Licences', quantity: 4, unitPrice: '95.00', taxPercent: '10' }] });
    const parked = await invoiceAt(s, erp.number, 'needs_attention', 15000);
    expect(parked.attention?.reason).toBe('portal_rejected');
    expect(parked.attention?.detail).toMatch(/client id is invalid/);
    expect(parked.portal).toBeNull();
    expect((await describeInvoice(erp.number)).typedSearchAttributes.get(AttentionReason)).toBe('portal_rejected');
    expect(await portal.findInvoiceByNumber(erp.number)).toBeNull();

    const [synced] = await syncCustomers(s.ops, [c.number], 'finance@cronus.example');
    expect(synced).toMatchObject({ status: 'ready', clientId });
    expect((await portal.getClient(clientId)).isDeleted).toBe(false);
    await resetInvoice(s.ops, erp.number, 'finance@cronus.example', 'client restored in the portal');
    const resumed = await invoiceAt(s, erp.number, 'link_sent', 15000);
    expect(resumed.attention).toBeNull();
    const inPortal = await portal.findInvoiceByNumber(erp.number);
    expect(inPortal?.clientId).toBe(clientId);
    expect(inPortal?.amount.minor).toBe(parseDecimal(erp.totalIncludingTax, 'USD'));
    await eventually(async () => (await mail('ap@litware.example')).find((m) => m.text.includes(resumed.portal!.link)), 5000, 'the link email');
  });

  it('an invoice waiting for its customer that is cancelled in the ERP ends cancelled without reaching the portal', async () => {
    const c = s.bc.admin.createCustomer({ displayName: 'Wide World Importers', email: 'ap@wideworld.example' });
    const erp = s.bc.admin.postInvoice({ customerNumber: c.number, lines: [{ description: 'Crates', quantity: 10, unitPrice: '12.00', taxPercent: '0' }] });
    await eventually(async () => (await invoiceState(s.ops, erp.number)).attention?.reason === 'not_opted_in', 10000, 'not_opted_in');
    s.bc.admin.cancelInvoice(erp.number);
    const result = await s.t.client.workflow.getHandle<typeof invoiceLifecycle>(invoiceWorkflowId(s.ops.companyId, erp.number)).result();
    expect(result.stage).toBe('cancelled');
    expect(result.portal).toBeNull();
    expect(await s.deps.portals.client('default').findInvoiceByNumber(erp.number)).toBeNull();
  });

  it('posting group routing: an EXPORT customer goes to the EXPORT portal, everyone else to the default one', async () => {
    await setOptIn(s.ops, ['C40000', 'C10000'], { optedIn: true, by: 'test' });
    const exported = s.bc.admin.postInvoice({ customerNumber: 'C40000', lines: [{ description: 'Ski rental', quantity: 4, unitPrice: '45.50', taxPercent: '0' }] });
    const domestic = s.bc.admin.postInvoice({ customerNumber: 'C10000', lines: [{ description: 'Consulting', quantity: 1, unitPrice: '120.00', taxPercent: '8.25' }] });
    const exportClient = deps.portals.client('EXPORT');
    const defaultClient = deps.portals.client('default');

    const inExport = await eventually(() => exportClient.findInvoiceByNumber(exported.number), 10000, 'the EXPORT portal invoice');
    expect(inExport.amount.minor).toBe(18200);
    const inDefault = await eventually(() => defaultClient.findInvoiceByNumber(domestic.number), 10000, 'the default portal invoice');
    expect(inDefault.number).toBe(domestic.number);
    // Each invoice and customer exists in its own portal only.
    expect(await defaultClient.findInvoiceByNumber(exported.number)).toBeNull();
    expect(await exportClient.findInvoiceByNumber(domestic.number)).toBeNull();
    expect(await defaultClient.findClientByNumber('C40000')).toBeNull();
    expect(await exportClient.findClientByNumber('C10000')).toBeNull();

    const st = await invoiceAt(s, exported.number, 'link_sent');
    expect(st.portal?.connectionKey).toBe('EXPORT');
    expect(st.portal?.link.startsWith(exportPortal.url)).toBe(true);
    expect((await customerState(s.ops, 'C40000')).portal?.connectionKey).toBe('EXPORT');

    // The EXPORT connection's own watcher sees the customer's view. (Not in the same second as the invoice's creation:
    // the watcher's cursor skips an invoice whose updated_at second it has already seen.)
    await new Promise((r) => setTimeout(r, 1100));
    await axios.get(st.portal!.link);
    await eventually(async () => (await invoiceState(s.ops, exported.number)).stage === 'viewed', 10000, 'viewed via the EXPORT watcher');
  });

  it('customer attachments are uploaded to the portal client once, new ones on the next "Sync Customer"', async () => {
    s.bc.admin.addCustomerAttachment('C20000', { fileName: 'terms.pdf', content: '%PDF-1.4 terms' });
    await setOptIn(s.ops, ['C20000'], { optedIn: true, by: 'test' });
    const portal = s.deps.portals.client('default');
    expect((await portal.findClientByNumber('C20000'))?.documents.map((d) => [d.name, d.isPublic])).toEqual([['terms.pdf', true]]);
    s.bc.admin.addCustomerAttachment('C20000', { fileName: 'w9.pdf', content: '%PDF-1.4 w9' });
    await syncCustomers(s.ops, ['C20000', 'C20000'], 'test');
    const client = await portal.findClientByNumber('C20000');
    expect(client?.documents.map((d) => d.name).sort()).toEqual(['terms.pdf', 'w9.pdf']);
    // A file the settings call private reaches the portal for staff only: the customer cannot download it.
    s.bc.admin.addCustomerAttachment('C20000', { fileName: 'internal-credit-check.pdf', content: '%PDF-1.4 internal' });
    await syncCustomers(s.ops, ['C20000'], 'test');
    const after = await portal.findClientByNumber('C20000');
    expect(after?.documents.map((d) => [d.name, d.isPublic]).sort()).toEqual([
      ['internal-credit-check.pdf', false],
      ['terms.pdf', true],
      ['w9.pdf', true],
    ]);
  });
});

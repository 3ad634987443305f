import axios from 'axios';
import { parseDecimal } from '../../src/domain/money';
import { invoiceState, invoiceTimeline, previewLink } from '../../src/operations/invoices';
import { paymentState } from '../../src/operations/payments';
import { invoiceWorkflowId } from '../../workflows/ids';
import { InvoiceNumber, Stage, AmountDue } from '../../src/temporal/searchAttributes';
import { payOnPortal } from '../support/portalPay';
import { startReadyStack } from '../support/ready';
import { eventually, useStack, type TestStack } from '../support/stack';

let s: TestStack;
const mail = async (to?: string) => (await axios.get(`${s.sinks.httpUrl}/mail`, { params: to ? { to } : {} })).data as Array<{ subject: string; to: string[] | string; text: string }>;
const sms = async () => (await axios.get(`${s.sinks.httpUrl}/sms`)).data as Array<{ to: string; body: string }>;

useStack(() => startReadyStack(), (stack) => (s = stack), 90000);

describe('life of an invoice, end to end', () => {
  it('posted in the ERP → portal → link sent → viewed once → paid on the pay page → posted in the ERP', async () => {
    const postedAt = Date.now();
    const erp = s.bc.admin.postInvoice({
      customerNumber: 'C10000',
      externalDocumentNumber: 'PO-77',
      lines: [
        { description: 'Consulting', quantity: 3, unitPrice: '99.99', taxPercent: '8.25' },
        { description: 'Licence', quantity: 1, unitPrice: '10.05', taxPercent: '5' },
        { description: 'Travel', quantity: 1, unitPrice: '42.10', taxPercent: '0' },
      ],
    });
    const total = parseDecimal(erp.totalIncludingTax, 'USD');
    const portal = s.deps.portals.client('default');

    // The BC notification starts the workflow, which creates the portal invoice with the same total.
    const portalInvoice = await eventually(() => portal.findInvoiceByNumber(erp.number), 10000, 'the portal invoice');
    const syncMs = Date.now() - postedAt;
    expect(portalInvoice.amount.minor).toBe(total);
    expect(portalInvoice.customValues[0]).toBe('PO-77');
    expect(syncMs).toBeLessThan(5000);

    const state = await eventually(async () => {
      const st = await invoiceState(s.ops, erp.number);
      return st.stage === 'link_sent' && st;
    }, 10000, 'stage link_sent');
    expect(state.totalMinor).toBe(total);
    expect(state.portal?.link).toContain('/client/invoice/');

    // Findable in the Temporal UI by invoice number.
    const found = [];
    for await (const wf of s.t.client.workflow.list({ query: `InvoiceNumber = '${erp.number}' AND TaskQueue = '${s.config.env.TEMPORAL_TASK_QUEUE}'` })) found.push(wf);
    expect(found.map((w) => w.workflowId)).toEqual([invoiceWorkflowId(s.ops.companyId, erp.number)]);
    expect(found[0]!.typedSearchAttributes.get(InvoiceNumber)).toBe(erp.number);

    // The link went out by email and SMS, from the templates.
    const linkMail = await eventually(async () => (await mail()).find((m) => m.subject.includes(erp.number) && m.text.includes(state.portal!.link)), 5000, 'the link email');
    expect(linkMail.text).toContain('Adatum');
    const text = await eventually(async () => (await sms()).find((m) => m.body.includes(state.portal!.link)), 5000, 'the link SMS');
    expect(text.body).toContain(erp.number);

    // A staff preview is not a view.
    await axios.get(await previewLink(s.ops, erp.number));
    await new Promise((r) => setTimeout(r, 1500));
    expect((await invoiceState(s.ops, erp.number)).viewed).toBe(false);

    // The customer opens the link: viewed, staff notified once; a second view is recorded but not notified.
    await axios.get(state.portal!.link);
    await eventually(async () => (await invoiceState(s.ops, erp.number)).stage === 'viewed', 10000, 'stage viewed');
    await new Promise((r) => setTimeout(r, 1100));
    await axios.get(state.portal!.link);
    await new Promise((r) => setTimeout(r, 1500));
    const viewedMails = (await mail()).filter((m) => m.subject === `Invoice ${erp.number} was viewed`);
    expect(viewedMails).toHaveLength(1);
    expect(viewedMails[0]!.text).toContain(`Customer C10000 opened invoice ${erp.number}`);
    // The portal watcher told staff as it saw the first view: the invoice workflow ran no activity for it.
    const events = (await s.t.client.workflow.getHandle(invoiceWorkflowId(s.ops.companyId, erp.number)).fetchHistory()).events ?? [];
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'notifyStaffOfView')).toEqual([]);
    expect(events.find((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'invoiceViewed')).toBeDefined();

    // Pay part of it by card on the pay page.
    const { paymentId, feeMinor } = await payOnPortal(s.portal.url, state.portal!.invitationKey, [{ invoiceId: state.portal!.invoiceId, amount: '100.00' }]);
    const payment = await eventually(async () => {
      const p = await paymentState(s.ops, 'default', paymentId);
      return p.stage === 'posted' && p;
    }, 15000, 'payment posted');
    expect(payment.posting?.status).toBe('posted');

    // The ERP ledger has exactly one cash receipt with the portal payment id, applied to the invoice.
    const entries = s.bc.admin.listLedgerEntries({ customerNumber: 'C10000' }).filter((e) => e.externalDocumentNumber === paymentId);
    expect(entries.map((e) => e.documentType)).toContain('Payment');
    const applied = entries.filter((e) => e.documentType === 'Payment');
    expect(applied.reduce((sum, e) => sum + parseDecimal(e.amount, 'USD'), 0)).toBe(-10000);
    expect(parseDecimal(s.bc.admin.getInvoice(erp.number).remaining, 'USD')).toBe(total - 10000);
    // The convenience fee the portal added went to the fee account, not to the invoice.
    expect(feeMinor).toBeGreaterThan(0);
    const feeEntries = await s.deps.bc.findGeneralLedgerEntries(paymentId);
    expect(feeEntries.filter((e) => e.accountNumber === '65100').reduce((sum, e) => sum + e.credit.minor - e.debit.minor, 0)).toBe(feeMinor);

    // The invoice workflow follows: partially paid, amount due indexed.
    const after = await eventually(async () => {
      const st = await invoiceState(s.ops, erp.number);
      return st.stage === 'partially_paid' && st;
    }, 10000, 'stage partially_paid');
    expect(after.erpRemainingMinor).toBe(total - 10000);
    const described = await s.t.client.workflow.getHandle(invoiceWorkflowId(s.ops.companyId, erp.number)).describe();
    expect(described.typedSearchAttributes.get(Stage)).toBe('partially_paid');
    expect(described.typedSearchAttributes.get(AmountDue)).toBe(total - 10000);

    const timeline = await invoiceTimeline(s.ops, erp.number);
    expect(timeline.map((e) => e.kind)).toEqual(expect.arrayContaining(['synced', 'link_sent', 'viewed', 'payment_made']));
    expect(timeline.find((e) => e.kind === 'payment_made')?.amountMinor).toBe(10000);
    process.stdout.write(`invoice ${erp.number}: ERP post → portal in ${syncMs} ms\n`);
  });
});

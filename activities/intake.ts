import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { LINE_TYPE, type InInvoice, type InPayment } from '../src/adapters/invoiceNinja';
import { gatewayFeeShare, pairedGatewayFee } from '../src/domain/gatewayFees';
import { durationMs } from '../src/config/duration';
import { CustomerNumber, InvoiceNumber, Stage } from '../src/temporal/searchAttributes';
import { observePayment } from '../src/temporal/starters';
import { customer, CUSTOMER_WORKFLOW_REVISION, offerForMatchingSignal } from '../workflows/customer';
import { customerWorkflowId, invoiceWorkflowId, paymentWorkflowId } from '../workflows/ids';
import { invoiceViewedSignal } from '../workflows/invoiceMessages';
import { adjustmentWaitingFor } from './customerMemo';
import type { ActivityDeps } from './deps';
import { erpPostingState, erpPostingStateWithGeneral, lookupErpInvoices } from './erp';
import { classified } from './failures';
import { tellStaffOfView, type ViewNotice } from './notifications';
import type { PollResult, PortalCursor } from './intakeTypes';
import { advance, paymentVersion } from './pollCursor';
import type { MatchablePayment, PaymentContext } from './paymentTypes';

/**
 * The invoice numbers an earlier (closed) run of the payment's workflow indexed (`InvoiceNumber`): Invoice Ninja deletes a
 * voided payment's links to its invoices, so a read after the void has none, and the run that reverses it was most
 * often started by the void. Empty when no earlier run indexed any, or visibility cannot be read.
 */
async function invoicesOfEarlierRuns(deps: ActivityDeps, connectionKey: string, paymentId: string): Promise<string[]> {
  const workflowId = paymentWorkflowId(connectionKey, paymentId).replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  try {
    for await (const wf of deps.temporal.client.workflow.list({ query: `WorkflowId = '${workflowId}' AND ExecutionStatus != 'Running'` })) {
      const numbers = wf.typedSearchAttributes.get(InvoiceNumber);
      if (numbers) return [...new Set(numbers.split(',').filter(Boolean))];
    }
  } catch {
    // Visibility unreadable: the invoices are left to the drift sweep, as before.
  }
  return [];
}

/** Payments we recorded in the portal ourselves (ERP-side payments, paid-at-posting) carry one of these references. */
export const ERP_ORIGIN_PREFIXES = ['paid-at-posting:', 'erp:'];

export function isErpOrigin(p: Pick<InPayment, 'transactionReference'>): boolean {
  return ERP_ORIGIN_PREFIXES.some((prefix) => p.transactionReference.startsWith(prefix));
}

/** A customer's own money in the portal, taken (completed, or partly refunded since), not one we recorded from the ERP. */
export function isSettledCustomerPayment(p: Pick<InPayment, 'transactionReference' | 'isDeleted' | 'status'>): boolean {
  return !p.isDeleted && (p.status === 'completed' || p.status === 'partially_refunded') && !isErpOrigin(p);
}

/**
 * The allocations (each already net of its own refund rows) brought within what the payment still holds: a refund the
 * portal recorded on the payment alone (no invoice rows) comes off the unallocated part first, then off the allocations
 * from the last one back, so the allocations never add up to more than the payment that is posted.
 */
export function netOfPaymentRefund(allocationsMinor: readonly number[], paymentNetMinor: number): number[] {
  const out = allocationsMinor.map((a) => Math.max(0, a));
  let over = out.reduce((sum, a) => sum + a, 0) - Math.max(0, paymentNetMinor);
  for (let n = out.length - 1; n >= 0 && over > 0; n--) {
    const cut = Math.min(out[n]!, over);
    out[n]! -= cut;
    over -= cut;
  }
  return out;
}

/** Stages of an invoice the customer has not opened yet. */
const NOT_YET_VIEWED = new Set(['synced', 'link_sent']);

/**
 * Tells staff of an invoice's first view when its workflow's indexed stage says it has not been viewed yet, so the
 * invoice workflow needs no activity of its own for it (one billed action less per invoice). False (the invoice
 * tells them itself) when the stage says otherwise, or the describe or the mail fails.
 */
async function tellStaffOfFirstView(deps: ActivityDeps, handle: WorkflowHandle, notice: Omit<ViewNotice, 'customerNumber'>): Promise<boolean> {
  try {
    const d = await handle.describe();
    const stage = d.typedSearchAttributes.get(Stage);
    if (d.status.name !== 'RUNNING' || !stage || !NOT_YET_VIEWED.has(stage)) return false;
    await tellStaffOfView(deps, { ...notice, customerNumber: d.typedSearchAttributes.get(CustomerNumber) ?? null });
    return true;
  } catch {
    return false;
  }
}

function portalStatus(p: InPayment): PaymentContext['portalStatus'] {
  if (p.isDeleted || p.status === 'cancelled') return 'voided';
  return p.status;
}

const latestView = (invoice: InInvoice) =>
  invoice.invitations
    .map((i) => i.viewedDate)
    .filter((d): d is string => !!d)
    .sort()
    .pop() ?? '';

export function createIntakeActivities(deps: ActivityDeps) {
  const { portals, settings } = deps;

  /**
   * The gateway fee inside an allocation (src/domain/gatewayFees.ts): the payment's own paid fee line when the
   * invoice's fee lines pair with its online payments, else the portal's fee lines against both sides' totals.
   * `reads` read the invoice with its payments (and, when the pairing needs it, the invoice once more), only when the
   * invoice has a paid fee line.
   */
  const paidFeeLinesOf = (invoice: InInvoice) => invoice.lines.filter((l) => l.typeId === LINE_TYPE.PAID_GATEWAY_FEE).map((l) => l.lineTotal.minor);
  const feeShare = async (
    allocationMinor: number,
    seen: InInvoice,
    paymentId: string,
    reads: { withPayments: () => Promise<{ invoice: InInvoice; payments: InPayment[] }>; invoice: () => Promise<InInvoice> },
  ): Promise<number> => {
    if (!paidFeeLinesOf(seen).some((minor) => minor > 0)) return 0;
    const first = await reads.withPayments();
    const candidates = first.payments.map((q) => ({
      id: q.id,
      number: q.number,
      createdAt: q.createdAt,
      online: q.gatewayTypeId !== '' && !q.isManual,
      failed: q.status === 'failed',
      firstInvoiceId: q.invoices[0]?.invoiceId ?? null,
    }));
    const pair = (invoice: InInvoice) => pairedGatewayFee({ invoiceId: invoice.id, paidFeeLinesMinor: paidFeeLinesOf(invoice), paymentId, payments: candidates });
    let invoice = first.invoice;
    let paired = pair(invoice);
    if (paired === null) {
      // Invoice Ninja loads the include after the invoice, so a payment made in between is listed without its fee line
      // and the pairing gives up. Read after the list, the invoice has every listed payment's line: pair once more.
      invoice = await reads.invoice();
      paired = pair(invoice);
    }
    const feeLines = paidFeeLinesOf(invoice).reduce((sum, minor) => sum + minor, 0);
    if (feeLines <= 0) return 0;
    if (paired !== null) return Math.min(paired, allocationMinor);
    const erp = await deps.bc.getSalesInvoiceByNumber(invoice.number, { lines: false });
    // An invoice the ERP does not know has had nothing applied there: the fee still comes out of the portal's side.
    return gatewayFeeShare({
      allocationMinor,
      portalPaidToDateMinor: invoice.paidToDate.minor,
      portalFeeLinesMinor: feeLines,
      erpTotalMinor: erp ? erp.totalIncludingTax.minor : 0,
      erpRemainingMinor: erp ? erp.remaining.minor : 0,
    });
  };
  /**
   * Offers a positive payment to its customer's refund-versus-adjustment arbiter (signal-with-start of the customer
   * workflow); the answer comes back to the payment workflow as a signal. Offering twice gets the same answer.
   */
  const offer = async (input: { companyId: string; customerNumber: string; connectionKey: string; payment: MatchablePayment }) => {
    const { client, taskQueue } = deps.temporal;
    await client.workflow.signalWithStart(customer, {
      taskQueue,
      workflowId: customerWorkflowId(input.companyId, input.customerNumber),
      args: [{ companyId: input.companyId, customerNumber: input.customerNumber, revision: CUSTOMER_WORKFLOW_REVISION }],
      signal: offerForMatchingSignal,
      signalArgs: [{ payment: input.payment, connectionKey: input.connectionKey, windowMs: durationMs(settings.payments.adjustmentWindow) }],
      typedSearchAttributes: [{ key: CustomerNumber, value: input.customerNumber }],
    });
  };

  return {
    /**
     * The payment as the portal has it now, with the ERP customer and invoice numbers and what the ERP already posted.
     * With `offer`, a payment that is to be planned now (positive, unposted, of a known customer) is offered to its
     * customer's refund-versus-adjustment arbiter in the same activity (`offered`; the answer comes by signal): one
     * billed action less than a separate offerForMatching. By signal, not Update: a customer's many payments arriving
     * at once are taken in one workflow task, where Updates queue behind its ten in-flight ones. With 'when_waiting'
     * the offer is made only while the customer's workflow says a negative payment waits (`noPartnerWaiting` else).
     */
    async resolvePaymentContext(input: { companyId: string; connectionKey: string; paymentId: string; offer?: boolean | 'when_waiting' }): Promise<PaymentContext> {
      return classified(async () => {
        const portal = portals.client(input.connectionKey);
        const p = await portal.getPayment(input.paymentId);
        const client = p.clientRecord?.id === p.clientId ? p.clientRecord : await portal.getClient(p.clientId);
        const numbers = new Map<string, string>();
        const allocations: PaymentContext['allocations'] = [];
        const portalBalances: Record<string, number> = {};
        const read: Array<{ invoiceId: string; invoice: InInvoice; amountMinor: number }> = [];
        for (const i of p.invoices) {
          const invoice = p.invoiceRecords?.find((r) => r.id === i.invoiceId) ?? (await portal.getInvoice(i.invoiceId));
          numbers.set(i.invoiceId, invoice.number);
          portalBalances[invoice.number] = invoice.balance.minor;
          read.push({ invoiceId: i.invoiceId, invoice, amountMinor: i.amount.minor - i.refunded.minor });
        }
        const net = netOfPaymentRefund(read.map((r) => r.amountMinor), p.amount.minor - p.refunded.minor);
        for (const [n, { invoiceId, invoice }] of read.entries()) {
          const amountMinor = net[n]!;
          if (amountMinor <= 0) continue;
          allocations.push({ invoiceNumber: invoice.number, amountMinor, feeMinor: await feeShare(amountMinor, invoice, p.id, {
              withPayments: () => portal.getInvoiceWithPayments(invoiceId),
              invoice: () => portal.getInvoice(invoiceId),
            }),
          });
        }
        const method = p.gatewayTypeId === '1' ? 'card' : p.gatewayTypeId === '2' ? 'bank' : null;
        const methodCode = method ? settings.payments.methodCodes[method] ?? null : null;
        const status = portalStatus(p);
        let erp = await erpPostingState(deps, p.id);
        // A posted payment the portal took money back from: its reversal mirrors the G/L lines too (fee, excess).
        if (erp.posted && p.amount.minor > 0 && (status === 'voided' || status === 'failed' || p.refunded.minor > 0)) erp = await erpPostingStateWithGeneral(deps, p.id);
        // A payment that will be planned now gets its ERP invoices with this read (one activity less per payment).
        const plannable = !erp.posted && isSettledCustomerPayment(p) && p.amount.minor - p.refunded.minor > 0;
        const customerNumber = client.number || null;
        // 'when_waiting': only while a negative payment of the customer waits for a partner, or paired this one before
        // its workflow ran (a negative payment that comes later reads this one from the portal itself).
        const offerable = !!input.offer && plannable && customerNumber !== null;
        const offered = offerable && (input.offer === true || (await adjustmentWaitingFor(deps, input.companyId, customerNumber!, p.id)));
        if (offered) {
          await offer({
            companyId: input.companyId,
            customerNumber: customerNumber!,
            connectionKey: input.connectionKey,
            payment: { paymentId: p.id, amountMinor: p.amount.minor, currency: p.currency, atMs: p.createdAt * 1000 },
          });
        }
        return {
          paymentId: p.id,
          connectionKey: input.connectionKey,
          amountMinor: p.amount.minor,
          refundedMinor: p.refunded.minor,
          currency: p.currency,
          date: p.date,
          createdAtMs: p.createdAt * 1000,
          updatedAtSec: p.updatedAt,
          portalStatus: status,
          origin: isErpOrigin(p) ? 'erp' : 'portal',
          portalClientId: p.clientId,
          customerNumber,
          allocations,
          // A voided payment the ERP has, read with no invoices left: those an earlier run of it saw.
          invoiceNumbers:
            numbers.size === 0 && erp.posted && (status === 'voided' || status === 'failed')
              ? await invoicesOfEarlierRuns(deps, input.connectionKey, p.id)
              : [...new Set([...numbers.values()])],
          methodCode,
          erp,
          // The customer's own method is read only when the payment's method maps to none (the plan prefers that one).
          ...(plannable && allocations.length > 0 ? { erpInvoices: await lookupErpInvoices(deps, allocations.map((a) => a.invoiceNumber), methodCode ? null : customerNumber) } : {}),
          journalBatch: settings.payments.journalBatch,
          portalBalances,
          ...(offered ? { offered } : {}),
          ...(offerable && !offered ? { noPartnerWaiting: true } : {}),
        };
      });
    },

    /** A positive payment offered to its customer's arbiter (`offer`), for payment runs that did not offer with the read. */
    async offerForMatching(input: { companyId: string; customerNumber: string; connectionKey: string; payment: MatchablePayment }): Promise<void> {
      await offer(input);
    },

    /**
     * One poll of a portal connection: invoice views (invitation viewed_date) go to the invoice workflows, changed
     * payments are signalled-with-start to their payment workflows. Duplicates are harmless on both ends.
     */
    async pollPortalChanges(input: { companyId: string; connectionKey: string; cursor: PortalCursor; payments: boolean }): Promise<PollResult> {
      return classified(async () => {
        const portal = portals.client(input.connectionKey);
        let viewsSignalled = 0;
        let paymentsSignalled = 0;

        const invoices = await portal.listInvoicesUpdatedSince(input.cursor.invoices.since);
        const inv = advance(input.cursor.invoices, invoices, latestView);
        for (const invoice of inv.fresh) {
          const viewedAt = latestView(invoice);
          if (!viewedAt) continue;
          try {
            const handle = deps.temporal.client.workflow.getHandle(invoiceWorkflowId(input.companyId, invoice.number));
            const staffNotified = await tellStaffOfFirstView(deps, handle, { companyId: input.companyId, invoiceNumber: invoice.number, viewedAt });
            await handle.signal(invoiceViewedSignal, { viewedAt, ...(staffNotified ? { staffNotified } : {}) });
            viewsSignalled++;
          } catch (err) {
            if (!(err instanceof WorkflowNotFoundError)) throw err;
          }
        }

        let payments = input.cursor.payments;
        if (input.payments) {
          const rows = await portal.listPaymentsUpdatedSince(input.cursor.payments.since);
          const pay = advance(input.cursor.payments, rows, paymentVersion);
          for (const { id, updatedAt } of pay.fresh) {
            await observePayment(deps.temporal, input.companyId, input.connectionKey, id, { source: 'poll', updatedAt });
            paymentsSignalled++;
          }
          payments = pay.next;
        }
        return { cursor: { invoices: inv.next, payments }, paymentsSignalled, viewsSignalled };
      });
    },
  };
}

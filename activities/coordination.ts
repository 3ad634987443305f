import { durationMs } from '../src/config/duration';
import { updateCustomer } from '../src/temporal/starters';
import { ensurePortalClientUpdate, matchAdjustmentUpdate, type PortalClientAnswer } from '../workflows/customer';
import { classified } from './failures';
import { isSettledCustomerPayment } from './intake';
import type { ActivityDeps } from './deps';
import type { AdjustmentMatch, MatchablePayment } from './paymentTypes';

// Activities that reach other entity workflows through the Temporal client (workflows cannot send Updates). The portal
// client request is a plain function as well, for syncInvoice, which makes it as one step of its own.

/** Asks the customer's workflow for the portal client (update-with-start: the customer workflow may not exist yet). */
export function requestPortalClientOf(deps: ActivityDeps, input: { companyId: string; customerNumber: string; invoiceWorkflowId: string }): Promise<PortalClientAnswer> {
  return updateCustomer(deps.temporal, input.companyId, input.customerNumber, ensurePortalClientUpdate, { invoiceWorkflowId: input.invoiceWorkflowId });
}

/** The client's live positive portal payments within `windowMs` of `around` (candidates for pairing with it). */
async function positivePaymentsNear(deps: ActivityDeps, connectionKey: string, clientId: string, around: MatchablePayment, windowMs: number): Promise<MatchablePayment[]> {
  // Only the window's: a long-standing customer's whole payment history would be pages of reads for nothing.
  const payments = await deps.portals.client(connectionKey).listClientPayments(clientId, { createdSince: Math.floor((around.atMs - windowMs) / 1000) });
  return payments
    .filter((p) => p.id !== around.paymentId && isSettledCustomerPayment(p) && p.amount.minor > 0)
    .map((p) => ({ paymentId: p.id, amountMinor: p.amount.minor, currency: p.currency, atMs: p.createdAt * 1000 }))
    .filter((p) => Math.abs(p.atMs - around.atMs) <= windowMs);
}

export function createCoordinationActivities(deps: ActivityDeps) {
  return {
    async requestPortalClient(input: { companyId: string; customerNumber: string; invoiceWorkflowId: string }): Promise<PortalClientAnswer> {
      return requestPortalClientOf(deps, input);
    },

    /**
     * Refund-versus-adjustment pairing, decided by the customer's workflow one payment at a time (asking again: same
     * answer). With the payment's portal client, the client's positive payments within the window go with the question
     * (positive payments offer themselves only while a negative one waits).
     */
    async matchAdjustment(input: { companyId: string; customerNumber: string; connectionKey: string; payment: MatchablePayment; portalClientId?: string }): Promise<AdjustmentMatch> {
      const windowMs = durationMs(deps.settings.payments.adjustmentWindow);
      const known = input.portalClientId ? await classified(() => positivePaymentsNear(deps, input.connectionKey, input.portalClientId!, input.payment, windowMs)) : undefined;
      return updateCustomer(deps.temporal, input.companyId, input.customerNumber, matchAdjustmentUpdate, {
        payment: input.payment,
        connectionKey: input.connectionKey,
        windowMs,
        ...(known ? { known } : {}),
      });
    },
  };
}

import { durationMs } from '../src/config/duration';
import { updateCustomer } from '../src/temporal/starters';
import { ensurePortalClientUpdate, matchAdjustmentUpdate, type PortalClientAnswer } from '../workflows/customer';
import type { ActivityDeps } from './deps';
import type { AdjustmentMatch, MatchablePayment } from './paymentTypes';

// Activities that reach other entity workflows through the Temporal client (workflows cannot send Updates). The portal
// client request is a plain function as well, for syncInvoice, which makes it as one step of its own.

/** Asks the customer's workflow for the portal client (update-with-start: the customer workflow may not exist yet). */
export function requestPortalClientOf(deps: ActivityDeps, input: { companyId: string; customerNumber: string; invoiceWorkflowId: string }): Promise<PortalClientAnswer> {
  return updateCustomer(deps.temporal, input.companyId, input.customerNumber, ensurePortalClientUpdate, { invoiceWorkflowId: input.invoiceWorkflowId });
}

export function createCoordinationActivities(deps: ActivityDeps) {
  return {
    async requestPortalClient(input: { companyId: string; customerNumber: string; invoiceWorkflowId: string }): Promise<PortalClientAnswer> {
      return requestPortalClientOf(deps, input);
    },

    /** Refund-versus-adjustment pairing, decided by the customer's workflow one payment at a time (asking again: same answer). */
    async matchAdjustment(input: { companyId: string; customerNumber: string; connectionKey: string; payment: MatchablePayment }): Promise<AdjustmentMatch> {
      return updateCustomer(deps.temporal, input.companyId, input.customerNumber, matchAdjustmentUpdate, {
        payment: input.payment,
        connectionKey: input.connectionKey,
        windowMs: durationMs(deps.settings.payments.adjustmentWindow),
      });
    },
  };
}

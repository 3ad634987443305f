import { durationMs } from '../src/config/duration';
import type { BcLedgerEntry } from '../src/adapters/businessCentral';
import { observePayment, updateCustomer } from '../src/temporal/starters';
import { ensurePortalClientUpdate, matchAdjustmentUpdate, releaseAdjustmentUpdate, type PortalClientAnswer } from '../workflows/customer';
import { adjustmentReversalNote, adjustmentTakeBackNote, reversalKey } from '../workflows/portalPayment';
import { erpPostingStateWithGeneral } from './erp';
import { classified } from './failures';
import { isSettledCustomerPayment } from './intake';
import type { ActivityDeps } from './deps';
import type { AdjustmentMatch, AdjustmentRelease, MatchablePayment } from './paymentTypes';

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

/** What the ERP holds of an adjustment partner: whether it was posted, and what was reversed for the given pair. */
async function partnerReversal(deps: ActivityDeps, partnerId: string, negativeId: string) {
  const note = adjustmentReversalNote(negativeId);
  const entries: BcLedgerEntry[] = [];
  // The receipt and its reversals (<id>-R, <id>-R2, …), three keys a read, until a reversal key is missing.
  let keys = [partnerId, reversalKey(partnerId, 1), reversalKey(partnerId, 2), reversalKey(partnerId, 3)];
  for (let n = 4; ; n += 3) {
    const read = await deps.bc.findEntriesByExternalDocumentNumbers(keys);
    entries.push(...read);
    if (!read.some((e) => e.externalDocumentNumber === keys[keys.length - 1]) || !entries.some((e) => e.externalDocumentNumber === partnerId)) break;
    keys = [reversalKey(partnerId, n), reversalKey(partnerId, n + 1), reversalKey(partnerId, n + 2)];
  }
  const receipts = entries.filter((e) => e.externalDocumentNumber === partnerId);
  // Only the reversals this pair made (either side wrote it, both with the same words): a refund of the partner in
  // the portal stays reversed.
  const reversals = entries.filter((e) => e.externalDocumentNumber !== partnerId && e.amount.minor > 0 && e.description.endsWith(note));
  // What a release already took back in the partner's own sequence (a retry, or a second run of the voided payment).
  const takeBack = adjustmentTakeBackNote(negativeId);
  const takenBack = entries.filter((e) => e.externalDocumentNumber !== partnerId && e.amount.minor < 0 && e.description.endsWith(takeBack));
  const reversedMinor = reversals.reduce((sum, e) => sum + e.amount.minor, 0);
  return {
    posted: receipts.length > 0,
    reversedMinor: Math.max(0, reversedMinor + takenBack.reduce((sum, e) => sum + e.amount.minor, 0)),
    customerNumber: reversals[0]?.customerNumber ?? receipts[0]?.customerNumber ?? null,
  };
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

    /**
     * A negative payment voided in the portal: the customer's arbiter releases its pair, and the ERP says what the pair
     * reversed of the partner's posting (the caller takes it back). A partner never posted (the pair netted out with
     * nothing in the ERP) is looked at again on its own, so its receipt is posted now. Safe to retry: the arbiter
     * answers the same partner, the reads change nothing, and a second look at the partner finds it posted or posting.
     * `partnerPaymentId`: the partner the payment's run paired with, for when the arbiter no longer remembers the pair
     * (pruned with an older customer run, or a pair finance forced): the take-back is owed all the same.
     */
    async releaseAdjustment(input: { companyId: string; customerNumber: string; connectionKey: string; paymentId: string; partnerPaymentId?: string }): Promise<AdjustmentRelease> {
      const released = await updateCustomer(deps.temporal, input.companyId, input.customerNumber, releaseAdjustmentUpdate, { paymentId: input.paymentId });
      const partnerPaymentId = released.partnerPaymentId ?? input.partnerPaymentId ?? null;
      if (!partnerPaymentId) return { partnerPaymentId: null, reversedMinor: 0, customerNumber: null, partnerPosted: false };
      const erp = await classified(() => partnerReversal(deps, partnerPaymentId, input.paymentId));
      if (!erp.posted) {
        await observePayment(deps.temporal, input.companyId, input.connectionKey, partnerPaymentId, {
          source: 'manual',
          updatedAt: Math.floor(Date.now() / 1000),
          event: `adjustment partner ${input.paymentId} voided`,
        });
      }
      // The take-back goes on the partner's own reversal sequence (its next key, counted by G/L entries: a fee-only
      // reversal has no customer entry), so the partner's posting state nets it against the reversal it undoes.
      const takeBackKey = erp.posted && erp.reversedMinor > 0 ? reversalKey(partnerPaymentId, (await classified(() => erpPostingStateWithGeneral(deps, partnerPaymentId))).reversals + 1) : null;
      return { partnerPaymentId, reversedMinor: erp.reversedMinor, customerNumber: erp.customerNumber, partnerPosted: erp.posted, takeBackKey };
    },
  };
}

/**
 * Drift between the two balances of one invoice: the ERP remaining amount and the portal balance. The portal invoice total
 * equals the ERP total by construction (taxRounding), so once every known payment has landed on both sides the two balances
 * must be equal.
 *
 * Payments already on their way are taken into account: an ERP payment being pushed to the portal will lower the portal
 * balance, a portal payment being posted will lower the ERP remaining amount. With
 *   settled portal = portal balance − in flight to the portal,   settled ERP = ERP remaining − in flight to the ERP,
 * the classification is:
 *   in_sync      settled portal = settled ERP
 *   heal_portal  settled portal > settled ERP: the ERP has payments (or credits) the portal lacks; record one portal payment
 *                of the difference (healing the portal is allowed: the ERP is the book of record)
 *   heal_erp     settled portal < settled ERP: the portal shows more paid than the ERP (a portal payment not posted, or an
 *                ERP unapplication); reported, because posting is the payment workflow's job
 *   report       anything the rules cannot compare: the invoice is unknown to the portal, currencies differ, it is
 *                cancelled on one side only, or a balance is negative
 */

import type { AttentionReason } from './application';

export interface DriftInput {
  currency: string;
  erpRemainingMinor: number;
  erpCancelled?: boolean;
  /** null when the invoice is unknown to the portal. */
  portal: { currency: string; balanceMinor: number; cancelled?: boolean } | null;
  /** ERP payments known and being recorded in the portal, not yet in its balance. */
  inFlightToPortalMinor?: number;
  /** Portal payments known and being posted in the ERP, not yet in its remaining amount. */
  inFlightToErpMinor?: number;
}

export type DriftReportReason = 'not_in_portal' | 'currency_mismatch' | 'cancelled_on_one_side' | 'negative_balance';

export type DriftDecision =
  | { kind: 'in_sync' }
  | { kind: 'heal_portal'; amountMinor: number }
  | { kind: 'heal_erp'; amountMinor: number }
  | { kind: 'report'; reason: DriftReportReason; detail: string };

export function classifyDrift(input: DriftInput): DriftDecision {
  const { portal } = input;
  if (!portal) return { kind: 'report', reason: 'not_in_portal', detail: 'the invoice is unknown to the portal' };
  if (portal.currency !== input.currency) {
    return { kind: 'report', reason: 'currency_mismatch', detail: `ERP currency ${input.currency}, portal currency ${portal.currency}` };
  }
  const erpCancelled = Boolean(input.erpCancelled);
  const portalCancelled = Boolean(portal.cancelled);
  if (erpCancelled !== portalCancelled) {
    return {
      kind: 'report',
      reason: 'cancelled_on_one_side',
      detail: erpCancelled ? 'cancelled in the ERP but not in the portal' : 'cancelled in the portal but not in the ERP',
    };
  }
  if (erpCancelled) return { kind: 'in_sync' };

  const settledPortal = portal.balanceMinor - (input.inFlightToPortalMinor ?? 0);
  const settledErp = input.erpRemainingMinor - (input.inFlightToErpMinor ?? 0);
  if (settledPortal < 0 || settledErp < 0) {
    return {
      kind: 'report',
      reason: 'negative_balance',
      detail: `after payments in flight the portal balance is ${settledPortal} and the ERP remaining amount ${settledErp}`,
    };
  }
  const diff = settledPortal - settledErp;
  if (diff === 0) return { kind: 'in_sync' };
  return diff > 0 ? { kind: 'heal_portal', amountMinor: diff } : { kind: 'heal_erp', amountMinor: -diff };
}

/** The attention reason an invoice gets for a drift decision: healing the portal needs none, everything else is `drift`. */
export function driftAttention(decision: DriftDecision): AttentionReason | null {
  return decision.kind === 'heal_erp' || decision.kind === 'report' ? 'drift' : null;
}

/**
 * The gateway (convenience) fee inside a portal payment's allocation to one invoice.
 *
 * Invoice Ninja adds the fee as a paid gateway-fee line (type 4) on the invoice it collects it with, so the portal
 * invoice grows by the fee and the payment's allocation includes it; Business Central's invoice never had it. Fee lines
 * carry no payment id, so the fee of this payment is derived from both sides' totals:
 *
 *   non-fee paid in the portal so far = portal paid_to_date − Σ gateway-fee lines
 *   applied in the ERP so far         = ERP total − ERP remaining        (every earlier payment, fees excluded)
 *   this payment's non-fee part       = non-fee paid in the portal so far − applied in the ERP so far
 *   fee                               = allocation − this payment's non-fee part, clamped to [0, min(allocation, Σ fee lines)]
 *
 * Payments made in the ERP and paid-at-posting amounts appear on both sides and cancel out. When two payments to the
 * same invoice are classified at once the split between them may shift, never the total.
 */
export interface FeeShareInput {
  allocationMinor: number;
  portalPaidToDateMinor: number;
  portalFeeLinesMinor: number;
  erpTotalMinor: number;
  erpRemainingMinor: number;
}

export function gatewayFeeShare(i: FeeShareInput): number {
  if (i.portalFeeLinesMinor <= 0) return 0;
  const nonFeePaid = i.portalPaidToDateMinor - i.portalFeeLinesMinor;
  const erpApplied = i.erpTotalMinor - i.erpRemainingMinor;
  const nonFeeThisPayment = nonFeePaid - erpApplied;
  const fee = i.allocationMinor - nonFeeThisPayment;
  return Math.max(0, Math.min(fee, i.allocationMinor, i.portalFeeLinesMinor));
}

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
 * Payments made in the ERP and paid-at-posting amounts appear on both sides and cancel out. Exact for payments posted
 * one after the other; two unposted payments to one invoice would each see the other's fee line, which is why
 * pairedGatewayFee (below) is asked first.
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

/** A portal payment as the fee pairing sees it (from the client's payment list). */
export interface FeeCandidatePayment {
  id: string;
  /** The portal's sequential payment number (orders payments made in the same second). */
  number: string;
  createdAt: number;
  /** Made through a gateway on the pay page (only those carry a gateway fee). */
  online: boolean;
  /** Failed payments had their fee line taken away again. */
  failed: boolean;
  /** The invoice the portal put this payment's fee on: its first invoice. */
  firstInvoiceId: string | null;
}

/**
 * The exact fee of one payment on one invoice, when it can be told: the portal adds one paid fee line per gateway
 * payment to that payment's first invoice, in the order the payments were made, so the k-th online payment (by
 * creation time, then number) carried the k-th line. Lines beyond the listed payments belong to payments made since
 * the list was read (they are newer, so they come last). Returns null when there are fewer lines than online payments
 * (a gateway payment without a fee, one that failed, or one listed before its line reached the invoice): the caller
 * falls back to gatewayFeeShare, which is exact for payments posted one after the other.
 *
 * This keeps two payments to one invoice apart while both are unposted, which the totals alone cannot: each gets its
 * own fee, whatever order they are classified and posted in.
 */
export function pairedGatewayFee(input: { invoiceId: string; paidFeeLinesMinor: readonly number[]; payments: readonly FeeCandidatePayment[]; paymentId: string }): number | null {
  const carriers = input.payments
    .filter((p) => p.online && !p.failed && p.firstInvoiceId === input.invoiceId)
    .sort((a, b) => a.createdAt - b.createdAt || a.number.localeCompare(b.number, undefined, { numeric: true }) || a.id.localeCompare(b.id));
  if (carriers.length > input.paidFeeLinesMinor.length) return null;
  const k = carriers.findIndex((p) => p.id === input.paymentId);
  if (k < 0) return 0;
  return input.paidFeeLinesMinor[k]!;
}

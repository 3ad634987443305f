/**
 * What to take back in the ERP when the portal takes back (voids or refunds) a payment that was posted. Pure: the payment
 * workflow posts what this says, under the reversal key `<id>-R<n>`.
 *
 * A positive payment's posting has a customer part (applied and unapplied receipts) and may have G/L lines (the fee
 * and the excess booked to the fee account); parts of it may never have been posted (an excess reported with no fee
 * account, a part skipped for a closed invoice, a part refunded before posting).
 *
 * The fee account holds two kinds of money: the excess over what the ERP invoice had left (not owed: the customer
 * overpaid) and the portal's gateway fee (a line of the portal invoice the customer paid for the card payment).
 *
 *  - A void takes back every line that was posted: the customer part from the customer, each fee line from its account.
 *  - A refund (the portal's refunded amount, cumulative) comes off, in this order: what was never posted (nothing to
 *    reverse), the excess (reversed on the fee account), the customer part (reversed to the customer), and last the
 *    gateway fee (on the fee account; only a refund of the whole payment reaches it). A refund gives back what was not
 *    owed first; the invoice keeps its application, and the merchant its card fee, as long as they can.
 *  - Not decided, for finance: a partial refund that could be the never-posted part or the excess (both exist and the
 *    refund covers less than both), and ERP reversals beyond what the refund explains (taken back by hand, or by an
 *    older rule that reversed everything to the customer).
 */

export interface FeeLine {
  /** The G/L account the posting credited. */
  account: string;
  /** The account its balancing entry debited (the reversal credits it back). */
  balancingAccount: string;
  amountMinor: number;
}

export interface PostedPayment {
  /** The portal payment's amount and what the portal refunded of it so far, positive minor units. */
  amountMinor: number;
  refundedMinor: number;
  /** Voided or failed in the portal. */
  gone: boolean;
  customerPostedMinor: number;
  customerReversedMinor: number;
  feeLines: FeeLine[];
  /** Of the fee lines, the portal's gateway fee for this payment (the rest is excess). */
  gatewayFeeMinor: number;
  feeReversedMinor: number;
}

export type PartsReversal =
  | {
      kind: 'reverse';
      /** To reverse now: from the customer, and from each fee line's account. */
      customerMinor: number;
      fees: FeeLine[];
      /** After this reversal the customer part and the excess are taken back (the gateway fee may stay: a refund of the invoice). */
      complete: boolean;
    }
  | { kind: 'unclear'; detail: string };

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

export function planPartsReversal(p: PostedPayment): PartsReversal {
  const fee = sum(p.feeLines.map((l) => l.amountMinor));
  const gateway = Math.max(0, Math.min(p.gatewayFeeMinor, fee));
  const excess = fee - gateway;
  const neverPosted = Math.max(0, p.amountMinor - p.customerPostedMinor - fee);
  let excessTarget = excess;
  let customerTarget = p.customerPostedMinor;
  let gatewayTarget = gateway;
  if (!p.gone) {
    const refunded = Math.max(0, Math.min(p.refundedMinor, p.amountMinor));
    if (neverPosted > 0 && excess > 0 && refunded > 0 && refunded < neverPosted + excess) {
      return { kind: 'unclear', detail: `refund of ${refunded} could be the never-posted ${neverPosted} or the excess ${excess} booked to the fee account` };
    }
    // Off the parts in order: never posted, excess, customer, gateway fee.
    let left = refunded - Math.min(refunded, neverPosted);
    const take = (part: number) => {
      const taken = Math.min(left, part);
      left -= taken;
      return taken;
    };
    excessTarget = take(excess);
    customerTarget = take(p.customerPostedMinor);
    gatewayTarget = take(gateway);
  }
  const feeTarget = excessTarget + gatewayTarget;
  if (p.customerReversedMinor > customerTarget || p.feeReversedMinor > feeTarget) {
    return {
      kind: 'unclear',
      detail: `the ERP has more reversed (customer ${p.customerReversedMinor}, fee ${p.feeReversedMinor}) than the portal took back explains (customer ${customerTarget}, fee ${feeTarget})`,
    };
  }
  return {
    kind: 'reverse',
    customerMinor: customerTarget - p.customerReversedMinor,
    fees: slice(p.feeLines, p.feeReversedMinor, feeTarget - p.feeReversedMinor),
    complete: customerTarget === p.customerPostedMinor && excessTarget === excess,
  };
}

/** `amount` of the lines after the first `skip` (the part reversed before), line by line in order. */
function slice(lines: readonly FeeLine[], skip: number, amount: number): FeeLine[] {
  const out: FeeLine[] = [];
  for (const l of lines) {
    const skipped = Math.min(skip, l.amountMinor);
    skip -= skipped;
    const take = Math.min(amount, l.amountMinor - skipped);
    amount -= take;
    if (take > 0) out.push({ ...l, amountMinor: take });
  }
  return out;
}

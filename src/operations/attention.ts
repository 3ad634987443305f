import { bounded, type OpsContext } from './context';
import { invoiceClauses, listInvoices, type InvoiceRow } from './invoices';
import { listPayments, paymentClauses, type StagedPaymentRow } from './payments';
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from './visibility';

export interface AttentionList {
  invoices: InvoiceRow[];
  payments: StagedPaymentRow[];
  /**
   * Payments whose run ended with a reason (skipped `closed_invoice`, posted `over_cap`, …) and that finance has not
   * re-posted (no later run replaced it): `payment resolve` re-posts one with a decision.
   */
  endedPayments: StagedPaymentRow[];
  /**
   * How many wait in all: more than listed when the limit cut the list. Ended payments are counted among the newest
   * 1000 ended runs with a reason (a run a later one replaced is not counted, which a visibility count cannot tell).
   */
  totals: { invoices: number; payments: number; endedPayments: number };
}

/**
 * Everything waiting for a person: running invoices and payments in needs_attention, and payments that ended with a
 * reason finance has not re-posted, with their reasons and totals.
 */
export async function listAttention(ctx: OpsContext, limit?: number): Promise<AttentionList> {
  const count = (clauses: string[]) => bounded(ctx, 'counting workflows', async () => (await ctx.client.workflow.count(clauses.join(' AND '))).count);
  const [invoices, payments, ended, invoiceTotal, paymentTotal] = await Promise.all([
    listInvoices(ctx, { attention: true, limit }),
    listPayments(ctx, { attention: true, limit }),
    listPayments(ctx, { ended: true, limit: MAX_LIST_LIMIT }),
    count(invoiceClauses(ctx, { attention: true })),
    count(paymentClauses({ attention: true })),
  ]);
  return {
    invoices,
    payments,
    endedPayments: ended.slice(0, limit ?? DEFAULT_LIST_LIMIT),
    totals: { invoices: invoiceTotal, payments: paymentTotal, endedPayments: ended.length },
  };
}

import { bounded, type OpsContext } from './context';
import { invoiceClauses, listInvoices, type InvoiceRow } from './invoices';
import { listPayments, paymentClauses, type StagedPaymentRow } from './payments';

export interface AttentionList {
  invoices: InvoiceRow[];
  payments: StagedPaymentRow[];
  /** How many wait in all: more than listed when the limit cut the list. */
  totals: { invoices: number; payments: number };
}

/** Everything waiting for a person: running invoices and payments in needs_attention, with their reasons and totals. */
export async function listAttention(ctx: OpsContext, limit?: number): Promise<AttentionList> {
  const count = (clauses: string[]) => bounded(ctx, 'counting workflows', async () => (await ctx.client.workflow.count(clauses.join(' AND '))).count);
  const [invoices, payments, invoiceTotal, paymentTotal] = await Promise.all([
    listInvoices(ctx, { attention: true, limit }),
    listPayments(ctx, { attention: true, limit }),
    count(invoiceClauses(ctx, { attention: true })),
    count(paymentClauses({ attention: true })),
  ]);
  return { invoices, payments, totals: { invoices: invoiceTotal, payments: paymentTotal } };
}

import { listInvoices, type InvoiceRow } from './invoices';
import { listPayments, type StagedPaymentRow } from './payments';
import type { OpsContext } from './context';

/** Everything waiting for a person: running invoices and payments in needs_attention, with their reasons. */
export async function listAttention(ctx: OpsContext, limit?: number): Promise<{ invoices: InvoiceRow[]; payments: StagedPaymentRow[] }> {
  const [invoices, payments] = await Promise.all([listInvoices(ctx, { attention: true, limit }), listPayments(ctx, { attention: true, limit })]);
  return { invoices, payments };
}

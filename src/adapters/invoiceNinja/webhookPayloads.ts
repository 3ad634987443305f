import type { z } from 'zod';
import { ExternalServiceError } from '../http/errors';
import { clientCurrency, toInvoice, toPayment } from './mappers';
import { invoiceNinjaInvoiceWebhookSchema, invoiceNinjaPaymentWebhookSchema } from './schemas';
import type { InInvoice, InPayment } from './types';

// Inbound webhook bodies (contract §5): the bare record, no envelope, no event id and no signature, so the endpoint
// authenticates by the shared secret header it registered and should re-fetch the record before acting on it.

export type WebhookParse<T> = { success: true; value: T } | { success: false; error: string };

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
    .join('; ');
}

function mapSafely<T>(map: () => T): WebhookParse<T> {
  try {
    return { success: true, value: map() };
  } catch (err) {
    return { success: false, error: err instanceof ExternalServiceError ? err.message : String(err) };
  }
}

/** Validates a create/update/delete_payment body (the payment with its invoices and client included). */
export function parsePaymentWebhook(body: unknown, companyCurrency = 'USD'): WebhookParse<InPayment> {
  const parsed = invoiceNinjaPaymentWebhookSchema.safeParse(body);
  if (!parsed.success) return { success: false, error: `not an Invoice Ninja payment: ${describe(parsed.error)}` };
  return mapSafely(() => toPayment(parsed.data, companyCurrency));
}

/** Validates an invoice event body (the invoice with its client included). */
export function parseInvoiceWebhook(body: unknown, companyCurrency = 'USD'): WebhookParse<InInvoice> {
  const parsed = invoiceNinjaInvoiceWebhookSchema.safeParse(body);
  if (!parsed.success) return { success: false, error: `not an Invoice Ninja invoice: ${describe(parsed.error)}` };
  const raw = parsed.data;
  if (!raw.client) return { success: false, error: 'not an Invoice Ninja invoice webhook: client is missing' };
  return mapSafely(() => toInvoice(raw, clientCurrency(raw.client!, companyCurrency)));
}

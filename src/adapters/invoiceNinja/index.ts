export { createInvoiceNinjaClient } from './client';
export type { InvoiceNinjaClient, InvoiceNinjaClientConfig } from './client';
export { currencyCodeFor, currencyIdFor, IN_CURRENCY_CODES, USD_CURRENCY_ID } from './currencies';
export { payLinkOf } from './mappers';
export {
  invoiceNinjaClientWebhookSchema,
  invoiceNinjaInvoiceWebhookSchema,
  invoiceNinjaPaymentWebhookSchema,
} from './schemas';
export { classify, DUPLICATE_GUARD_WAIT_MS } from './transport';
export * from './types';
export { parseInvoiceWebhook, parsePaymentWebhook } from './webhookPayloads';
export type { WebhookParse } from './webhookPayloads';

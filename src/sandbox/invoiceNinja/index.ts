export { createInvoiceNinjaSandbox, DEFAULT_ADMIN_TOKEN } from './server';
export type { InvoiceNinjaSandbox, InvoiceNinjaSandboxOptions } from './server';
export { ADMIN_TOKEN_HEADER } from './admin';
export type { InvoiceNinjaSandboxAdmin } from './admin';
export type { FeeRule, FeeSettings } from './context';
export { DEFAULT_FEES } from './context';
export { DECLINED_CARD } from './gateway';
export type { OutboxEmail, WebhookDelivery } from './model';

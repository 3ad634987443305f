export { createBusinessCentralSandbox, DEFAULT_ADMIN_TOKEN, type BusinessCentralSandbox, type BusinessCentralSandboxOptions } from './server';
export type { BcAdmin, CustomerInput, InvoiceInput, InvoiceLineInput, InvoiceView, LedgerEntryView } from './admin';
export { DEMO, DEMO_COMPANY_ID } from './seed';

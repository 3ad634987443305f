import type { Money } from '../../domain/money';

// Domain shapes the Invoice Ninja client takes and returns. Money is minor units plus currency; Invoice Ninja's
// decimals never leave the adapter.

export type InInvoiceStatus = 'draft' | 'sent' | 'partial' | 'paid' | 'cancelled' | 'reversed';
export type InPaymentStatus = 'pending' | 'cancelled' | 'failed' | 'completed' | 'partially_refunded' | 'refunded';

export const INVOICE_STATUS_BY_ID: Readonly<Record<number, InInvoiceStatus>> = {
  1: 'draft', 2: 'sent', 3: 'partial', 4: 'paid', 5: 'cancelled', 6: 'reversed',
};
export const PAYMENT_STATUS_BY_ID: Readonly<Record<number, InPaymentStatus>> = {
  1: 'pending', 2: 'cancelled', 3: 'failed', 4: 'completed', 5: 'partially_refunded', 6: 'refunded',
};

/** Line item type ids (contract §3): 3 unpaid / 4 paid gateway fee are the portal's own lines. */
export const LINE_TYPE = { PRODUCT: '1', SERVICE: '2', UNPAID_GATEWAY_FEE: '3', PAID_GATEWAY_FEE: '4', LATE_FEE: '5', EXPENSE: '6' } as const;

/** Webhook event ids we subscribe to (app/Models/Webhook.php). */
export const IN_EVENT = {
  CREATE_CLIENT: 1, CREATE_INVOICE: 2, CREATE_PAYMENT: 4, UPDATE_INVOICE: 8, DELETE_INVOICE: 9, UPDATE_CLIENT: 10,
  DELETE_PAYMENT: 12, UPDATE_PAYMENT: 31, ARCHIVE_PAYMENT: 32, ARCHIVE_INVOICE: 33, RESTORE_PAYMENT: 40,
  RESTORE_INVOICE: 41, SENT_INVOICE: 60,
} as const;

export type CustomValues = [string?, string?, string?, string?];

export interface InContact {
  id: string;
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  isPrimary: boolean;
  sendEmail: boolean;
}

export interface InDocument {
  id: string;
  name: string;
  size: number;
  hash: string;
  isPublic: boolean;
}

export interface InClient {
  id: string;
  number: string;
  idNumber: string;
  name: string;
  currency: string;
  currencyId: string;
  contacts: InContact[];
  documents: InDocument[];
  settings: Record<string, unknown>;
  balance: Money;
  paidToDate: Money;
  /** Unapplied payments on the account. */
  paymentBalance: Money;
  isDeleted: boolean;
  isArchived: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface InContactInput {
  /** Existing contact id; without one, a contact with the same email keeps its id, otherwise a new one is created. */
  id?: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  phone?: string;
  sendEmail?: boolean;
  isPrimary?: boolean;
}

export interface InClientInput {
  name: string;
  /** ISO currency of the customer; sent as settings.currency_id on every write. */
  currency: string;
  idNumber?: string;
  vatNumber?: string;
  phone?: string;
  website?: string;
  address1?: string;
  address2?: string;
  city?: string;
  state?: string;
  postalCode?: string;
  /** ISO 3166 alpha-2 or alpha-3. */
  countryCode?: string;
  contacts?: InContactInput[];
  customValues?: CustomValues;
  privateNotes?: string;
  publicNotes?: string;
  /** Further client settings (payment_terms, auto_bill, …), merged by the portal. */
  settings?: Record<string, unknown>;
}

export interface InLineInput {
  productKey?: string;
  notes?: string;
  /** Quantities are not money: a number or decimal text ("1.5"). */
  quantity: number | string;
  /** Unit price in minor units … */
  unitPriceMinor?: number;
  /** … or as exact decimal text when it has more places than the currency (ERP unit prices can). */
  unitPrice?: string;
  discountPercent?: number | string;
  /** Up to three taxes, each applied to the line and rounded to 2 places by the portal. */
  taxes?: Array<{ name: string; rate: number | string }>;
  typeId?: '1' | '2' | '5' | '6';
  customValues?: CustomValues;
}

export interface InInvoiceInput {
  clientId: string;
  currency: string;
  number?: string;
  date?: string;
  dueDate?: string;
  poNumber?: string;
  publicNotes?: string;
  privateNotes?: string;
  terms?: string;
  footer?: string;
  customValues?: CustomValues;
  autoBillEnabled?: boolean;
  partialMinor?: number;
  partialDueDate?: string;
  /**
   * The invoice-level settings the line arithmetic depends on. Invoice Ninja defaults `is_amount_discount` to true (a
   * line discount is then an amount, not a percentage) and `uses_inclusive_taxes` to the company's setting, so a
   * writer that relies on percentages and exclusive taxes says so.
   */
  invoiceLevel?: { isAmountDiscount: boolean; usesInclusiveTaxes: boolean; discount: number; taxes: Array<{ name: string; rate: number }> };
  lines?: InLineInput[];
}

export interface InLineItem {
  productKey: string;
  notes: string;
  quantity: string;
  /** Unit cost as the portal holds it (may have more places than the currency). */
  unitCost: string;
  /** Line discount as the portal holds it (a percentage, or an amount on an amount-discount invoice). */
  discount: string;
  lineTotal: Money;
  taxAmount: Money;
  taxes: Array<{ name: string; rate: string }>;
  typeId: string;
  customValues: [string, string, string, string];
}

export interface InInvitation {
  id: string;
  key: string;
  clientContactId: string;
  /** {domain}/client/invoice/{key} */
  link: string;
  /** {domain}/client/pay/{key} */
  payLink: string;
  sentDate: string | null;
  viewedDate: string | null;
  openedDate: string | null;
}

export interface InInvoice {
  id: string;
  clientId: string;
  number: string;
  statusId: number;
  status: InInvoiceStatus;
  date: string;
  dueDate: string;
  currency: string;
  amount: Money;
  balance: Money;
  paidToDate: Money;
  totalTaxes: Money;
  partial: Money;
  poNumber: string;
  customValues: [string, string, string, string];
  autoBillEnabled: boolean;
  lines: InLineItem[];
  invitations: InInvitation[];
  isDeleted: boolean;
  isArchived: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface InPaymentInvoice {
  invoiceId: string;
  amount: Money;
  refunded: Money;
}

export interface InPayment {
  id: string;
  clientId: string;
  clientContactId: string;
  number: string;
  statusId: number;
  status: InPaymentStatus;
  currency: string;
  amount: Money;
  applied: Money;
  refunded: Money;
  /** amount − applied (money on the account, not on an invoice). */
  unapplied: Money;
  date: string;
  typeId: string;
  /** 1 card, 2 bank transfer, … ('' for manual/API payments). */
  gatewayTypeId: string;
  isManual: boolean;
  isDeleted: boolean;
  isArchived: boolean;
  transactionReference: string;
  privateNotes: string;
  /** One entry per invoice the payment is applied to (paymentables). */
  invoices: InPaymentInvoice[];
  /** Full invoice records when the response included them (include=invoices, webhook bodies). */
  invoiceRecords?: InInvoice[];
  /** The client when the response included it (include=client). */
  clientRecord?: InClient;
  createdAt: number;
  updatedAt: number;
}

export interface InWebhook {
  id: string;
  eventId: number;
  targetUrl: string;
  restMethod: string;
  headers: Record<string, string>;
  isArchived: boolean;
  isDeleted: boolean;
}

export interface CreatePaymentInput {
  clientId: string;
  amountMinor: number;
  currency: string;
  invoices: Array<{ invoiceId: string; amountMinor: number }>;
  /** ≤ 64 chars, derived from business ids: the portal refuses a second payment with the same key. */
  idempotencyKey: string;
  /** Y-m-d */
  date: string;
  transactionReference: string;
  /** Default false: the portal would otherwise email a receipt per client settings. */
  emailReceipt?: boolean;
  /** PaymentType id (1 Bank Transfer, 2 Cash, 15 Check, …); default 1. */
  typeId?: string;
  privateNotes?: string;
}

export interface RefundInput {
  paymentId: string;
  currency: string;
  /** Y-m-d */
  date: string;
  /** Refund per invoice (reopens them) … */
  invoices?: Array<{ invoiceId: string; amountMinor: number }>;
  /** … or an amount off the payment without invoices. */
  amountMinor?: number;
  sendEmail?: boolean;
}

export type BulkInvoiceAction = 'mark_sent' | 'email' | 'cancel' | 'auto_bill' | 'archive' | 'restore' | 'delete';

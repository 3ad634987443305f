// The sandbox's stored records. Money is integer minor units of the client's currency; timestamps are unix
// seconds like Invoice Ninja's (created_at/updated_at/archived_at); dates are Y-m-d strings. Field names follow the
// API so the transformers stay thin.

export const CLIENT_TEXT_FIELDS = [
  'name', 'website', 'phone', 'vat_number', 'address1', 'address2', 'city', 'state', 'postal_code',
  'shipping_address1', 'shipping_address2', 'shipping_city', 'shipping_state', 'shipping_postal_code',
  'custom_value1', 'custom_value2', 'custom_value3', 'custom_value4', 'private_notes', 'public_notes',
  'group_settings_id', 'classification',
] as const;
export type ClientTextField = (typeof CLIENT_TEXT_FIELDS)[number];

export const CONTACT_TEXT_FIELDS = [
  'first_name', 'last_name', 'email', 'phone', 'custom_value1', 'custom_value2', 'custom_value3', 'custom_value4',
] as const;
export type ContactTextField = (typeof CONTACT_TEXT_FIELDS)[number];

export interface ContactRow {
  id: string;
  text: Record<ContactTextField, string>;
  send_email: boolean;
  is_primary: boolean;
  contact_key: string;
  has_password: boolean;
  created_at: number;
  updated_at: number;
}

export interface DocumentRow {
  id: string;
  name: string;
  type: string;
  size: number;
  hash: string;
  is_public: boolean;
  content_b64: string;
  created_at: number;
  updated_at: number;
}

/** A card saved on a portal payment, used by the auto_bill action. */
export interface GatewayTokenRow {
  id: string;
  token: string;
  last4: string;
  gateway_type_id: string;
  created_at: number;
}

export interface ClientRow {
  id: string;
  number: string;
  id_number: string;
  text: Record<ClientTextField, string>;
  country_id: string;
  shipping_country_id: string;
  is_tax_exempt: boolean;
  settings: Record<string, unknown>;
  contacts: ContactRow[];
  documents: DocumentRow[];
  gateway_tokens: GatewayTokenRow[];
  client_hash: string;
  is_deleted: boolean;
  archived_at: number;
  created_at: number;
  updated_at: number;
}

export const LINE_TEXT_FIELDS = [
  'product_key', 'notes', 'tax_name1', 'tax_name2', 'tax_name3', 'tax_id',
  'custom_value1', 'custom_value2', 'custom_value3', 'custom_value4', 'date', 'unit_code',
] as const;
export type LineTextField = (typeof LINE_TEXT_FIELDS)[number];

export const LINE_NUMBER_FIELDS = ['quantity', 'cost', 'product_cost', 'discount', 'tax_rate1', 'tax_rate2', 'tax_rate3'] as const;
export type LineNumberField = (typeof LINE_NUMBER_FIELDS)[number];

export interface LineRow {
  text: Record<LineTextField, string>;
  /** Decimal text as received (exact). */
  num: Record<LineNumberField, string>;
  is_amount_discount: boolean;
  type_id: string;
  line_total: string;
  gross_line_total: string;
  tax_amount: string;
  /** Internal: the portal payment that added this gateway-fee line (never sent in API responses). */
  fee_payment_id?: string;
}

export interface InvitationRow {
  id: string;
  key: string;
  client_contact_id: string;
  sent_date: string;
  viewed_date: string;
  opened_date: string;
  email_status: string;
  created_at: number;
  updated_at: number;
  archived_at: number;
}

export const INVOICE_TEXT_FIELDS = [
  'po_number', 'public_notes', 'private_notes', 'terms', 'footer',
  'custom_value1', 'custom_value2', 'custom_value3', 'custom_value4', 'tax_name1', 'tax_name2', 'tax_name3',
] as const;
export type InvoiceTextField = (typeof INVOICE_TEXT_FIELDS)[number];

export interface InvoiceRow {
  id: string;
  client_id: string;
  number: string;
  status_id: number;
  date: string;
  due_date: string;
  partial_due_date: string;
  text: Record<InvoiceTextField, string>;
  tax_rate1: string;
  tax_rate2: string;
  tax_rate3: string;
  discount: string;
  is_amount_discount: boolean;
  uses_inclusive_taxes: boolean;
  auto_bill_enabled: boolean;
  partial: number;
  amount: number;
  balance: number;
  paid_to_date: number;
  total_taxes: string;
  line_items: LineRow[];
  invitations: InvitationRow[];
  last_sent_date: string;
  /** Balance kept when cancelled (HandleCancellation's backup), restored if the invoice is reversed back. */
  cancelled_balance?: number;
  is_deleted: boolean;
  archived_at: number;
  created_at: number;
  updated_at: number;
}

export interface PaymentableRow {
  id: string;
  invoice_id: string;
  amount: number;
  refunded: number;
  created_at: number;
  updated_at: number;
}

export interface PaymentRow {
  id: string;
  client_id: string;
  client_contact_id: string;
  invitation_id: string;
  number: string;
  amount: number;
  applied: number;
  refunded: number;
  status_id: number;
  type_id: string;
  gateway_type_id: string;
  company_gateway_id: string;
  transaction_reference: string;
  is_manual: boolean;
  date: string;
  private_notes: string;
  custom_values: [string, string, string, string];
  currency_id: string;
  paymentables: PaymentableRow[];
  /** Gateway fee this payment added to an invoice (portal payments), removed again if the payment fails. */
  fee?: { invoice_id: string; amount: number };
  /** Unix ms at which a pending bank payment settles on its own. */
  settle_at?: number;
  is_deleted: boolean;
  archived_at: number;
  created_at: number;
  updated_at: number;
}

export interface WebhookRow {
  id: string;
  event_id: string;
  target_url: string;
  format: string;
  rest_method: 'post' | 'put';
  headers: Record<string, string>;
  is_deleted: boolean;
  archived_at: number;
  created_at: number;
  updated_at: number;
}

export interface OutboxEmail {
  id: string;
  at: string;
  kind: 'invoice' | 'payment_receipt';
  to: string;
  subject: string;
  body: string;
  entity_id: string;
  invitation_key?: string;
}

export interface WebhookDelivery {
  id: string;
  webhook_id: string;
  event_id: string;
  target_url: string;
  entity: string;
  entity_id: string;
  /** HTTP status received, or 0 when the request failed. */
  status: number;
  error?: string;
  archived_subscription: boolean;
  at: string;
  headers: Record<string, string>;
}

export type Counter = 'client' | 'contact' | 'document' | 'token' | 'invoice' | 'invitation' | 'payment' | 'paymentable' | 'webhook' | 'email' | 'delivery';

export interface SandboxState {
  version: 1;
  counters: Record<Counter, number>;
  numbers: { client: number; invoice: number; payment: number };
  clients: Record<string, ClientRow>;
  invoices: Record<string, InvoiceRow>;
  payments: Record<string, PaymentRow>;
  webhooks: Record<string, WebhookRow>;
  /** idempotency_key → payment id (unique per company, like the payments table's column). */
  idempotency: Record<string, string>;
  outbox: OutboxEmail[];
  deliveries: WebhookDelivery[];
  webhookDelayMs: number;
}

export function initialState(webhookDelayMs: number): SandboxState {
  const counters = Object.fromEntries(
    ['client', 'contact', 'document', 'token', 'invoice', 'invitation', 'payment', 'paymentable', 'webhook', 'email', 'delivery'].map((k) => [k, 0]),
  ) as Record<Counter, number>;
  return {
    version: 1,
    counters,
    numbers: { client: 0, invoice: 0, payment: 0 },
    clients: {},
    invoices: {},
    payments: {},
    webhooks: {},
    idempotency: {},
    outbox: [],
    deliveries: [],
    webhookDelayMs,
  };
}

export const INVOICE_STATUS = { DRAFT: 1, SENT: 2, PARTIAL: 3, PAID: 4, CANCELLED: 5, REVERSED: 6 } as const;
export const PAYMENT_STATUS = { PENDING: 1, CANCELLED: 2, FAILED: 3, COMPLETED: 4, PARTIALLY_REFUNDED: 5, REFUNDED: 6 } as const;

/** Webhook event ids (app/Models/Webhook.php) the sandbox fires. */
export const EVENT = {
  CREATE_CLIENT: 1,
  CREATE_INVOICE: 2,
  CREATE_PAYMENT: 4,
  UPDATE_INVOICE: 8,
  DELETE_INVOICE: 9,
  UPDATE_CLIENT: 10,
  DELETE_CLIENT: 11,
  DELETE_PAYMENT: 12,
  UPDATE_PAYMENT: 31,
  ARCHIVE_PAYMENT: 32,
  ARCHIVE_INVOICE: 33,
  ARCHIVE_CLIENT: 37,
  RESTORE_PAYMENT: 40,
  RESTORE_INVOICE: 41,
  RESTORE_CLIENT: 45,
  SENT_INVOICE: 60,
} as const;

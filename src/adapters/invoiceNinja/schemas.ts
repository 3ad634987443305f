import { z } from 'zod';

// Zod schemas for what Invoice Ninja v5 returns (app/Transformers/*, contract §2-5). Tolerant where the real server
// is loose (numbers sometimes arrive as numeric strings, ids as numbers, empty maps as []), strict on what we use.
// Unknown fields are dropped (the mappers read only what is declared here; copying the rest nearly doubled what a parse allocates).

/** A decimal amount as a JSON number (zod 4 refuses infinite ones) or numeric string. */
export const amount = z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/, 'must be a decimal number')]);

const idText = z.union([z.string(), z.number()]).transform(String);
const optText = z
  .union([z.string(), z.number(), z.null()])
  .optional()
  .transform((v) => (v === null || v === undefined ? '' : String(v)));
/** Unix seconds (ints in transformers; tolerate numeric strings). */
const timestamp = z
  .union([z.number(), z.string().regex(/^\d+$/), z.null()])
  .optional()
  .transform((v) => (v === null || v === undefined ? 0 : Number(v)));
/** PHP serialises an empty associative array as []. */
const flatMap = z
  .union([z.record(z.string(), z.unknown()), z.array(z.unknown())])
  .optional()
  .transform((v) => (v === undefined || Array.isArray(v) ? {} : v));

export const contactSchema = z
  .object({
    id: z.string().min(1),
    first_name: optText,
    last_name: optText,
    email: optText,
    phone: optText,
    is_primary: z.boolean().optional().default(false),
    send_email: z.boolean().optional().default(false),
    contact_key: optText,
  });

export const documentSchema = z
  .object({
    id: z.string().min(1),
    name: optText,
    type: optText,
    size: z.union([z.number(), z.string()]).optional().transform((v) => Number(v ?? 0)),
    hash: optText,
    is_public: z.boolean().optional().default(true),
  });

export const clientSchema = z
  .object({
    id: z.string().min(1),
    name: optText,
    number: optText,
    id_number: optText,
    balance: amount,
    paid_to_date: amount,
    payment_balance: amount.optional(),
    settings: flatMap,
    contacts: z.array(contactSchema).optional().default([]),
    documents: z.array(documentSchema).optional().default([]),
    is_deleted: z.boolean(),
    archived_at: timestamp,
    created_at: timestamp,
    updated_at: timestamp,
  });

export const lineItemSchema = z
  .object({
    product_key: optText,
    notes: optText,
    quantity: amount,
    cost: amount,
    discount: amount.optional(),
    line_total: amount.optional(),
    gross_line_total: amount.optional(),
    tax_amount: amount.optional(),
    tax_name1: optText,
    tax_rate1: amount.optional(),
    tax_name2: optText,
    tax_rate2: amount.optional(),
    tax_name3: optText,
    tax_rate3: amount.optional(),
    type_id: optText,
    custom_value1: optText,
    custom_value2: optText,
    custom_value3: optText,
    custom_value4: optText,
  });

export const invitationSchema = z
  .object({
    id: z.string().min(1),
    key: z.string().min(1),
    link: z.string(),
    client_contact_id: optText,
    sent_date: optText,
    viewed_date: optText,
    opened_date: optText,
  });

export const invoiceSchema = z
  .object({
    id: z.string().min(1),
    client_id: z.string().min(1),
    number: optText,
    status_id: idText,
    date: optText,
    due_date: optText,
    amount,
    balance: amount,
    paid_to_date: amount.optional(),
    total_taxes: amount.optional(),
    partial: amount.optional(),
    po_number: optText,
    custom_value1: optText,
    custom_value2: optText,
    custom_value3: optText,
    custom_value4: optText,
    auto_bill_enabled: z.boolean().optional().default(false),
    line_items: z.array(lineItemSchema).optional().default([]),
    invitations: z.array(invitationSchema).optional().default([]),
    is_deleted: z.boolean(),
    archived_at: timestamp,
    created_at: timestamp,
    updated_at: timestamp,
    client: clientSchema.optional(),
  });

export const paymentableSchema = z
  .object({
    id: optText,
    invoice_id: optText,
    credit_id: optText,
    amount,
    refunded: amount.optional(),
  });

export const paymentSchema = z
  .object({
    id: z.string().min(1),
    client_id: z.string().min(1),
    client_contact_id: optText,
    number: optText,
    status_id: idText,
    type_id: optText,
    gateway_type_id: optText,
    amount,
    applied: amount.optional(),
    refunded: amount.optional(),
    currency_id: optText,
    transaction_reference: optText,
    private_notes: optText,
    date: optText,
    is_manual: z.boolean().optional().default(true),
    is_deleted: z.boolean(),
    archived_at: timestamp,
    created_at: timestamp,
    updated_at: timestamp,
    paymentables: z.array(paymentableSchema).optional().default([]),
    invoices: z.array(invoiceSchema).optional(),
    client: clientSchema.optional(),
  });

/** An invoice read with `include=payments`: its payments, each with its paymentables. */
export const invoiceWithPaymentsSchema = invoiceSchema.extend({ payments: z.array(paymentSchema) });

export const webhookSchema = z
  .object({
    id: z.string().min(1),
    event_id: idText,
    target_url: z.string(),
    format: optText,
    rest_method: optText,
    headers: flatMap,
    is_deleted: z.boolean().optional().default(false),
    archived_at: timestamp,
  });

export const paginationSchema = z
  .object({
    total: z.number().int(),
    count: z.number().int(),
    per_page: z.number().int(),
    current_page: z.number().int(),
    total_pages: z.number().int(),
  });

export function itemEnvelope<S extends z.ZodType>(schema: S) {
  return z.object({ data: schema });
}

export function listEnvelope<S extends z.ZodType>(schema: S) {
  return z.object({ data: z.array(schema), meta: z.object({ pagination: paginationSchema }).optional() });
}

/** Laravel's error body (validation errors are field → messages). */
export const errorBodySchema = z
  .object({
    message: z.string().optional(),
    errors: z.union([z.record(z.string(), z.union([z.array(z.string()), z.string()])), z.array(z.unknown())]).optional(),
  });

// Webhook bodies are the bare transformed record (no envelope, no event name): a payment arrives with its invoices
// and client included, an invoice with its client (contract §5).
export const invoiceNinjaPaymentWebhookSchema = paymentSchema;
export const invoiceNinjaInvoiceWebhookSchema = invoiceSchema;
export const invoiceNinjaClientWebhookSchema = clientSchema;

export type RawClient = z.infer<typeof clientSchema>;
export type RawInvoice = z.infer<typeof invoiceSchema>;
export type RawPayment = z.infer<typeof paymentSchema>;
export type RawWebhook = z.infer<typeof webhookSchema>;

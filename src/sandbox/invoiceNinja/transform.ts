import { toDecimalNumber } from '../../domain/money';
import { dec, toJsonNumber } from './decimal';
import type { ClientRow, DocumentRow, InvoiceRow, LineRow, PaymentRow, WebhookRow } from './model';
import type { SandboxStore } from './store';

// Row → API JSON, field for field as Invoice Ninja's transformers print them (app/Transformers/*): hashed ids as
// strings, status ids as strings, money as JSON numbers, unset text and dates as '', timestamps as unix ints.

const USER_ID = 'VolejRejNm';

export function documentOut(doc: DocumentRow, publicUrl: string) {
  return {
    id: doc.id,
    user_id: USER_ID,
    assigned_user_id: '',
    project_id: '',
    vendor_id: '',
    name: doc.name,
    url: `${publicUrl}/api/v1/documents/${doc.id}/download`,
    preview: '',
    type: doc.type,
    disk: 'sandbox',
    hash: doc.hash,
    size: doc.size,
    width: 0,
    height: 0,
    is_default: false,
    is_public: doc.is_public,
    link: `${publicUrl}/documents/${doc.hash}`,
    created_at: doc.created_at,
    updated_at: doc.updated_at,
    archived_at: 0,
    is_deleted: false,
  };
}

export function clientOut(store: SandboxStore, c: ClientRow, publicUrl: string) {
  const currency = store.currencyOf(c);
  const totals = clientTotals(store, c);
  return {
    id: c.id,
    user_id: USER_ID,
    assigned_user_id: '',
    ...c.text,
    display_name: c.text.name || contactName(c) || '',
    balance: toDecimalNumber(totals.balance, currency),
    paid_to_date: toDecimalNumber(totals.paidToDate, currency),
    payment_balance: toDecimalNumber(totals.paymentBalance, currency),
    credit_balance: 0,
    client_hash: c.client_hash,
    country_id: c.country_id,
    shipping_country_id: c.shipping_country_id,
    industry_id: '',
    size_id: '',
    is_tax_exempt: c.is_tax_exempt,
    has_valid_vat_number: false,
    settings: c.settings,
    number: c.number,
    id_number: c.id_number,
    last_login: 0,
    is_deleted: c.is_deleted,
    created_at: c.created_at,
    updated_at: c.updated_at,
    archived_at: c.archived_at,
    contacts: c.contacts.map((ct) => ({
      id: ct.id,
      user_id: USER_ID,
      client_id: c.id,
      ...ct.text,
      is_primary: ct.is_primary,
      send_email: ct.send_email,
      contact_key: ct.contact_key,
      link: `${publicUrl}/client/key_login/${ct.contact_key}`,
      password: ct.has_password ? '**********' : '',
      last_login: 0,
      created_at: ct.created_at,
      updated_at: ct.updated_at,
      archived_at: 0,
    })),
    documents: c.documents.map((d) => documentOut(d, publicUrl)),
    gateway_tokens: c.gateway_tokens.map((t) => ({
      id: t.id,
      token: t.token,
      gateway_customer_reference: `cus_${c.client_hash.slice(0, 14)}`,
      gateway_type_id: t.gateway_type_id,
      company_gateway_id: 'VolejRejNm',
      is_default: true,
      meta: { brand: 'visa', last4: t.last4, type: 1 },
      created_at: t.created_at,
      updated_at: t.created_at,
      archived_at: 0,
      is_deleted: false,
    })),
  };
}

function contactName(c: ClientRow): string {
  const primary = c.contacts.find((ct) => ct.is_primary) ?? c.contacts[0];
  return primary ? `${primary.text.first_name} ${primary.text.last_name}`.trim() || primary.text.email : '';
}

/** Client balance (open invoices), paid_to_date and payment_balance (unapplied money), derived from the ledger. */
export function clientTotals(store: SandboxStore, c: ClientRow) {
  let balance = 0;
  for (const inv of store.invoicesOf(c.id)) {
    if (!inv.is_deleted && inv.status_id >= 2 && inv.status_id <= 4) balance += inv.balance;
  }
  let paidToDate = 0;
  let paymentBalance = 0;
  for (const p of store.paymentsOf(c.id)) {
    if (p.is_deleted || p.status_id === 2 || p.status_id === 3) continue;
    paidToDate += p.amount - p.refunded;
    if (p.amount > 0) paymentBalance += Math.max(0, p.amount - p.applied - p.refunded);
  }
  return { balance, paidToDate, paymentBalance };
}

function lineOut(l: LineRow) {
  return {
    ...l.text,
    quantity: toJsonNumber(dec(l.num.quantity)),
    cost: toJsonNumber(dec(l.num.cost)),
    product_cost: toJsonNumber(dec(l.num.product_cost)),
    discount: toJsonNumber(dec(l.num.discount)),
    tax_rate1: toJsonNumber(dec(l.num.tax_rate1)),
    tax_rate2: toJsonNumber(dec(l.num.tax_rate2)),
    tax_rate3: toJsonNumber(dec(l.num.tax_rate3)),
    is_amount_discount: l.is_amount_discount,
    type_id: l.type_id,
    sort_id: '0',
    line_total: toJsonNumber(dec(l.line_total)),
    gross_line_total: toJsonNumber(dec(l.gross_line_total)),
    tax_amount: toJsonNumber(dec(l.tax_amount)),
  };
}

export function invoiceOut(store: SandboxStore, inv: InvoiceRow, publicUrl: string, includes: Set<string> = new Set()) {
  const client = store.client(inv.client_id)!;
  const currency = store.currencyOf(client);
  const money = (minor: number) => toDecimalNumber(minor, currency);
  const out: Record<string, unknown> = {
    id: inv.id,
    user_id: USER_ID,
    project_id: '',
    assigned_user_id: '',
    vendor_id: '',
    design_id: 'VolejRejNm',
    recurring_id: '',
    subscription_id: '',
    client_id: inv.client_id,
    status_id: String(inv.status_id),
    number: inv.number,
    ...inv.text,
    date: inv.date,
    due_date: inv.due_date,
    last_sent_date: inv.last_sent_date,
    next_send_date: '',
    partial_due_date: inv.partial_due_date,
    amount: money(inv.amount),
    balance: money(inv.balance),
    paid_to_date: money(inv.paid_to_date),
    partial: money(inv.partial),
    total_taxes: toJsonNumber(dec(inv.total_taxes)),
    discount: toJsonNumber(dec(inv.discount)),
    is_amount_discount: inv.is_amount_discount,
    uses_inclusive_taxes: inv.uses_inclusive_taxes,
    tax_rate1: toJsonNumber(dec(inv.tax_rate1)),
    tax_rate2: toJsonNumber(dec(inv.tax_rate2)),
    tax_rate3: toJsonNumber(dec(inv.tax_rate3)),
    custom_surcharge1: 0,
    custom_surcharge2: 0,
    custom_surcharge3: 0,
    custom_surcharge4: 0,
    custom_surcharge_tax1: false,
    custom_surcharge_tax2: false,
    custom_surcharge_tax3: false,
    custom_surcharge_tax4: false,
    exchange_rate: 1,
    auto_bill_enabled: inv.auto_bill_enabled,
    auto_bill_tries: 0,
    reminder1_sent: '',
    reminder2_sent: '',
    reminder3_sent: '',
    reminder_last_sent: '',
    line_items: inv.line_items.map(lineOut),
    entity_type: 'invoice',
    is_deleted: inv.is_deleted,
    created_at: inv.created_at,
    updated_at: inv.updated_at,
    archived_at: inv.archived_at,
    invitations: inv.invitations.map((i) => ({
      id: i.id,
      client_contact_id: i.client_contact_id,
      key: i.key,
      link: `${publicUrl}/client/invoice/${i.key}`,
      sent_date: i.sent_date,
      viewed_date: i.viewed_date,
      opened_date: i.opened_date,
      email_status: i.email_status,
      email_error: '',
      message_id: '',
      created_at: i.created_at,
      updated_at: i.updated_at,
      archived_at: i.archived_at,
    })),
    documents: [],
  };
  if (includes.has('client')) out.client = clientOut(store, client, publicUrl);
  // The invoice's payments (InvoiceTransformer::includePayments, Invoice::payments(): those with a paymentable for it,
  // archived ones too, withTrashed; a deleted payment's paymentables are gone), each as a payment with its default includes.
  if (includes.has('payments')) {
    out.payments = store
      .paymentsOf(client.id)
      .filter((p) => p.paymentables.some((pb) => pb.invoice_id === inv.id))
      .map((p) => paymentOut(store, p, publicUrl));
  }
  return out;
}

export function paymentOut(store: SandboxStore, p: PaymentRow, publicUrl: string, includes: Set<string> = new Set()) {
  const client = store.client(p.client_id)!;
  const currency = store.currencyOf(client);
  const money = (minor: number) => toDecimalNumber(minor, currency);
  const out: Record<string, unknown> = {
    id: p.id,
    user_id: USER_ID,
    assigned_user_id: '',
    client_id: p.client_id,
    client_contact_id: p.client_contact_id,
    invitation_id: p.invitation_id,
    company_gateway_id: p.company_gateway_id,
    gateway_type_id: p.gateway_type_id,
    type_id: p.type_id,
    status_id: String(p.status_id),
    amount: money(p.amount),
    applied: money(p.applied),
    refunded: money(p.refunded),
    transaction_reference: p.transaction_reference,
    transaction_id: '',
    number: p.number,
    date: p.date,
    is_manual: p.is_manual,
    private_notes: p.private_notes,
    custom_value1: p.custom_values[0],
    custom_value2: p.custom_values[1],
    custom_value3: p.custom_values[2],
    custom_value4: p.custom_values[3],
    currency_id: p.currency_id,
    exchange_rate: 1,
    exchange_currency_id: '',
    project_id: '',
    vendor_id: '',
    is_deleted: p.is_deleted,
    created_at: p.created_at,
    updated_at: p.updated_at,
    archived_at: p.archived_at,
    paymentables: p.paymentables.map((pb) => ({
      id: pb.id,
      invoice_id: pb.invoice_id,
      amount: money(pb.amount),
      refunded: money(pb.refunded),
      created_at: pb.created_at,
      updated_at: pb.updated_at,
      archived_at: 0,
    })),
    documents: [],
  };
  if (includes.has('invoices')) {
    const ids = [...new Set(p.paymentables.map((pb) => pb.invoice_id))];
    out.invoices = ids.map((id) => store.invoice(id)).filter((i): i is InvoiceRow => !!i).map((i) => invoiceOut(store, i, publicUrl));
  }
  if (includes.has('client')) out.client = clientOut(store, client, publicUrl);
  return out;
}

export function webhookOut(w: WebhookRow) {
  return {
    id: w.id,
    company_id: 'VolejRejNm',
    user_id: USER_ID,
    event_id: w.event_id,
    target_url: w.target_url,
    format: w.format,
    rest_method: w.rest_method,
    headers: w.headers,
    is_deleted: w.is_deleted,
    created_at: w.created_at,
    updated_at: w.updated_at,
    archived_at: w.archived_at,
  };
}

export function includesOf(query: unknown): Set<string> {
  const raw = (query as Record<string, string | undefined>).include ?? '';
  return new Set(raw.split(',').map((s) => s.trim()).filter(Boolean));
}

import { type Money, parseDecimal } from '../../domain/money';
import { ResponseShapeError } from '../http/errors';
import { currencyCodeFor } from './currencies';
import type { RawClient, RawInvoice, RawPayment, RawWebhook } from './schemas';
import {
  type InClient,
  type InInvoice,
  type InInvitation,
  INVOICE_STATUS_BY_ID,
  type InPayment,
  type InWebhook,
  PAYMENT_STATUS_BY_ID,
} from './types';

// Raw Invoice Ninja records → domain objects: decimals become minor units of the record's currency here and only here.

type Amount = string | number;

function money(value: Amount | undefined, currency: string): Money {
  return { minor: value === undefined ? 0 : parseDecimal(value, currency), currency };
}

function currencyOrThrow(id: string, what: string): string {
  const code = currencyCodeFor(id);
  if (!code) throw new ResponseShapeError('invoice-ninja', what, `currency_id "${id}" is not a supported currency`);
  return code;
}

export function clientCurrency(raw: RawClient, companyCurrency: string): string {
  const id = raw.settings.currency_id;
  if (id === undefined || id === null || id === '') return companyCurrency;
  return currencyOrThrow(String(id), `client ${raw.id}`);
}

export function toClient(raw: RawClient, companyCurrency: string): InClient {
  const currency = clientCurrency(raw, companyCurrency);
  return {
    id: raw.id,
    number: raw.number,
    idNumber: raw.id_number,
    name: raw.name,
    currency,
    currencyId: String(raw.settings.currency_id ?? ''),
    contacts: raw.contacts.map((c) => ({
      id: c.id,
      firstName: c.first_name,
      lastName: c.last_name,
      email: c.email,
      phone: c.phone,
      isPrimary: c.is_primary,
      sendEmail: c.send_email,
    })),
    documents: raw.documents.map((d) => ({ id: d.id, name: d.name, size: d.size, hash: d.hash, isPublic: d.is_public })),
    settings: raw.settings,
    balance: money(raw.balance, currency),
    paidToDate: money(raw.paid_to_date, currency),
    paymentBalance: money(raw.payment_balance, currency),
    isDeleted: raw.is_deleted,
    isArchived: !raw.is_deleted && raw.archived_at > 0,
    createdAt: raw.created_at,
    updatedAt: raw.updated_at,
  };
}

/** The pay link is the view link with /client/pay/ (Inviteable::getPaymentLink). */
export function payLinkOf(link: string, key: string): string {
  const marker = `/client/invoice/${key}`;
  const i = link.lastIndexOf(marker);
  return i >= 0 ? `${link.slice(0, i)}/client/pay/${key}` : link.replace(/\/client\/invoice\//, '/client/pay/');
}

const orNull = (v: string) => (v === '' ? null : v);

export function toInvoice(raw: RawInvoice, currency: string): InInvoice {
  const statusId = Number(raw.status_id);
  const status = INVOICE_STATUS_BY_ID[statusId];
  if (!status) throw new ResponseShapeError('invoice-ninja', `invoice ${raw.id}`, `unknown status_id "${raw.status_id}"`);
  const invitations: InInvitation[] = raw.invitations.map((i) => ({
    id: i.id,
    key: i.key,
    clientContactId: i.client_contact_id,
    link: i.link,
    payLink: payLinkOf(i.link, i.key),
    sentDate: orNull(i.sent_date),
    viewedDate: orNull(i.viewed_date),
    openedDate: orNull(i.opened_date),
  }));
  return {
    id: raw.id,
    clientId: raw.client_id,
    number: raw.number,
    statusId,
    status,
    date: raw.date,
    dueDate: raw.due_date,
    currency,
    amount: money(raw.amount, currency),
    balance: money(raw.balance, currency),
    paidToDate: money(raw.paid_to_date, currency),
    totalTaxes: money(raw.total_taxes, currency),
    partial: money(raw.partial, currency),
    poNumber: raw.po_number,
    customValues: [raw.custom_value1, raw.custom_value2, raw.custom_value3, raw.custom_value4],
    autoBillEnabled: raw.auto_bill_enabled,
    lines: raw.line_items.map((l) => ({
      productKey: l.product_key,
      notes: l.notes,
      quantity: String(l.quantity),
      unitCost: String(l.cost),
      discount: String(l.discount ?? 0),
      lineTotal: money(l.line_total, currency),
      taxAmount: money(l.tax_amount, currency),
      taxes: (
        [
          [l.tax_name1, l.tax_rate1],
          [l.tax_name2, l.tax_rate2],
          [l.tax_name3, l.tax_rate3],
        ] as const
      )
        .filter(([name, rate]) => name !== '' || (rate !== undefined && Number(rate) !== 0))
        .map(([name, rate]) => ({ name, rate: String(rate ?? 0) })),
      typeId: l.type_id || '1',
      customValues: [l.custom_value1, l.custom_value2, l.custom_value3, l.custom_value4],
    })),
    invitations,
    isDeleted: raw.is_deleted,
    isArchived: !raw.is_deleted && raw.archived_at > 0,
    createdAt: raw.created_at,
    updatedAt: raw.updated_at,
  };
}

/** The payment's currency: its own currency_id, else the included client's, else the company's. */
export function paymentCurrency(raw: RawPayment, companyCurrency: string): string {
  if (raw.currency_id) return currencyOrThrow(raw.currency_id, `payment ${raw.id}`);
  if (raw.client) return clientCurrency(raw.client, companyCurrency);
  return companyCurrency;
}

export function toPayment(raw: RawPayment, companyCurrency: string): InPayment {
  const currency = paymentCurrency(raw, companyCurrency);
  const statusId = Number(raw.status_id);
  const status = PAYMENT_STATUS_BY_ID[statusId];
  if (!status) throw new ResponseShapeError('invoice-ninja', `payment ${raw.id}`, `unknown status_id "${raw.status_id}"`);
  const amount = money(raw.amount, currency);
  const applied = money(raw.applied, currency);
  return {
    id: raw.id,
    clientId: raw.client_id,
    clientContactId: raw.client_contact_id,
    number: raw.number,
    statusId,
    status,
    currency,
    amount,
    applied,
    refunded: money(raw.refunded, currency),
    unapplied: { minor: amount.minor - applied.minor, currency },
    date: raw.date,
    typeId: raw.type_id,
    gatewayTypeId: raw.gateway_type_id,
    isManual: raw.is_manual,
    isDeleted: raw.is_deleted,
    isArchived: !raw.is_deleted && raw.archived_at > 0,
    transactionReference: raw.transaction_reference,
    privateNotes: raw.private_notes,
    invoices: raw.paymentables
      .filter((p) => p.invoice_id !== '')
      .map((p) => ({ invoiceId: p.invoice_id, amount: money(p.amount, currency), refunded: money(p.refunded, currency) })),
    invoiceRecords: raw.invoices?.map((i) => toInvoice(i, currency)),
    createdAt: raw.created_at,
    updatedAt: raw.updated_at,
  };
}

export function toWebhook(raw: RawWebhook): InWebhook {
  return {
    id: raw.id,
    eventId: Number(raw.event_id),
    targetUrl: raw.target_url,
    restMethod: raw.rest_method || 'post',
    headers: Object.fromEntries(Object.entries(raw.headers).map(([k, v]) => [k, String(v)])),
    isArchived: !raw.is_deleted && raw.archived_at > 0,
    isDeleted: raw.is_deleted,
  };
}

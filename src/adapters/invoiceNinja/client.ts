import { formatDecimal, toDecimalNumber } from '../../domain/money';
import { ExternalServiceError } from '../http/errors';
import { currencyIdFor } from './currencies';
import { clientCurrency, toClient, toInvoice, toPayment, toWebhook } from './mappers';
import {
  clientSchema,
  invoiceSchema,
  invoiceWithPaymentsSchema,
  itemEnvelope,
  listEnvelope,
  paymentSchema,
  type RawClient,
  type RawInvoice,
  type RawPayment,
  type RawWebhook,
  webhookSchema,
} from './schemas';
import { Transport, type TransportConfig } from './transport';
import type {
  BulkInvoiceAction,
  CreatePaymentInput,
  InClient,
  InClientInput,
  InContactInput,
  InInvoice,
  InInvoiceInput,
  InLineInput,
  InPayment,
  InWebhook,
  RefundInput,
} from './types';

// The production Invoice Ninja v5 client (contract §1-6), used against the real portal and the sandbox alike.
// Writes follow the contract's recipe: clients upserted by number with settings.currency_id on every PUT, invoices
// created with the ERP number, payments with an idempotency key and email_receipt=false unless asked.

export interface InvoiceNinjaClientConfig extends TransportConfig {
  /** The company's currency, used when a client has no currency_id of its own (default USD). */
  companyCurrency?: string;
  /** Rows per list page (default 500, the contract's polling recipe). */
  pageSize?: number;
}

const MAX_PAGES = 10_000;

function unsupportedCurrency(code: string): ExternalServiceError {
  return new ExternalServiceError('invoice-ninja', `currency ${code} is not supported by the Invoice Ninja adapter`, {
    retryable: false,
    code: 'unsupported_currency',
  });
}

function currencyId(code: string): string {
  const id = currencyIdFor(code);
  if (!id) throw unsupportedCurrency(code);
  return id;
}

function contactBody(c: InContactInput) {
  const body: Record<string, unknown> = {};
  if (c.id) body.id = c.id;
  if (c.firstName !== undefined) body.first_name = c.firstName;
  if (c.lastName !== undefined) body.last_name = c.lastName;
  if (c.email !== undefined) body.email = c.email;
  if (c.phone !== undefined) body.phone = c.phone;
  if (c.sendEmail !== undefined) body.send_email = c.sendEmail;
  if (c.isPrimary !== undefined) body.is_primary = c.isPrimary;
  return body;
}

function clientBody(input: Partial<InClientInput> & { currency: string }, number?: string) {
  const body: Record<string, unknown> = {
    settings: { ...(input.settings ?? {}), currency_id: currencyId(input.currency) },
  };
  const fields: Array<[keyof InClientInput, string]> = [
    ['name', 'name'], ['idNumber', 'id_number'], ['vatNumber', 'vat_number'], ['phone', 'phone'], ['website', 'website'],
    ['address1', 'address1'], ['address2', 'address2'], ['city', 'city'], ['state', 'state'], ['postalCode', 'postal_code'],
    ['countryCode', 'country_code'], ['privateNotes', 'private_notes'], ['publicNotes', 'public_notes'],
  ];
  for (const [from, to] of fields) if (input[from] !== undefined) body[to] = input[from];
  if (number !== undefined) body.number = number;
  input.customValues?.forEach((v, i) => {
    if (v !== undefined) body[`custom_value${i + 1}`] = v;
  });
  if (input.contacts) body.contacts = input.contacts.map(contactBody);
  return body;
}

function lineBody(l: InLineInput, currency: string) {
  if (l.unitPrice === undefined && l.unitPriceMinor === undefined) {
    throw new ExternalServiceError('invoice-ninja', 'a line needs unitPriceMinor or unitPrice', { retryable: false, code: 'invalid_input' });
  }
  const body: Record<string, unknown> = {
    product_key: l.productKey ?? '',
    notes: l.notes ?? '',
    quantity: Number(l.quantity),
    cost: l.unitPrice !== undefined ? Number(l.unitPrice) : toDecimalNumber(l.unitPriceMinor!, currency),
    type_id: l.typeId ?? '1',
  };
  if (l.discountPercent !== undefined) body.discount = Number(l.discountPercent);
  (l.taxes ?? []).slice(0, 3).forEach((t, i) => {
    body[`tax_name${i + 1}`] = t.name;
    body[`tax_rate${i + 1}`] = Number(t.rate);
  });
  l.customValues?.forEach((v, i) => {
    if (v !== undefined) body[`custom_value${i + 1}`] = v;
  });
  return body;
}

function invoiceBody(input: Partial<InInvoiceInput> & { currency: string }) {
  const body: Record<string, unknown> = {};
  if (input.clientId !== undefined) body.client_id = input.clientId;
  const fields: Array<[keyof InInvoiceInput, string]> = [
    ['number', 'number'], ['date', 'date'], ['dueDate', 'due_date'], ['poNumber', 'po_number'], ['publicNotes', 'public_notes'],
    ['privateNotes', 'private_notes'], ['terms', 'terms'], ['footer', 'footer'], ['autoBillEnabled', 'auto_bill_enabled'],
    ['partialDueDate', 'partial_due_date'],
  ];
  for (const [from, to] of fields) if (input[from] !== undefined) body[to] = input[from];
  if (input.partialMinor !== undefined) body.partial = toDecimalNumber(input.partialMinor, input.currency);
  if (input.invoiceLevel) {
    body.is_amount_discount = input.invoiceLevel.isAmountDiscount;
    body.uses_inclusive_taxes = input.invoiceLevel.usesInclusiveTaxes;
    body.discount = input.invoiceLevel.discount;
    for (let i = 0; i < 3; i++) {
      body[`tax_name${i + 1}`] = input.invoiceLevel.taxes[i]?.name ?? '';
      body[`tax_rate${i + 1}`] = input.invoiceLevel.taxes[i]?.rate ?? 0;
    }
  }
  input.customValues?.forEach((v, i) => {
    if (v !== undefined) body[`custom_value${i + 1}`] = v;
  });
  if (input.lines) body.line_items = input.lines.map((l) => lineBody(l, input.currency));
  return body;
}

export function createInvoiceNinjaClient(cfg: InvoiceNinjaClientConfig) {
  const http = new Transport(cfg);
  const companyCurrency = cfg.companyCurrency ?? 'USD';
  const pageSize = cfg.pageSize ?? 500;
  const clientItem = itemEnvelope(clientSchema);
  const invoiceItem = itemEnvelope(invoiceSchema);
  const invoiceWithPaymentsItem = itemEnvelope(invoiceWithPaymentsSchema);
  const paymentItem = itemEnvelope(paymentSchema);
  const webhookItem = itemEnvelope(webhookSchema);
  /** Client id → currency, so invoices (which carry no currency of their own) can be converted. */
  const currencyByClient = new Map<string, string>();

  const rememberClient = (raw: RawClient): InClient => {
    const client = toClient(raw, companyCurrency);
    currencyByClient.set(client.id, client.currency);
    return client;
  };

  async function currencyOfClient(clientId: string): Promise<string> {
    const known = currencyByClient.get(clientId);
    if (known) return known;
    return (await getClient(clientId)).currency;
  }

  async function mapInvoice(raw: RawInvoice): Promise<InInvoice> {
    const currency = raw.client ? clientCurrency(raw.client, companyCurrency) : await currencyOfClient(raw.client_id);
    if (raw.client) currencyByClient.set(raw.client_id, currency);
    return toInvoice(raw, currency);
  }

  /** Every page of a list, following meta.pagination. */
  async function listAll<T>(what: string, path: string, params: Record<string, string | number>, schema: Parameters<typeof listEnvelope>[0]): Promise<T[]> {
    const out: T[] = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
      const body = await http.request(what, { method: 'GET', url: path, params: { ...params, per_page: pageSize, page } }, listEnvelope(schema));
      out.push(...(body.data as T[]));
      const p = body.meta?.pagination;
      if (!p || p.current_page >= p.total_pages || body.data.length === 0) return out;
    }
    throw new ExternalServiceError('invoice-ninja', `${what}: more than ${MAX_PAGES} pages`, { retryable: false, code: 'too_many_pages' });
  }

  /**
   * Every row changed at or after `since` (unix seconds), oldest first. Paged by value, not by offset: each request asks
   * again from the newest `updated_at` read so far, so a row changed while the pages are read (it moves to the end) cannot
   * shift an unread row onto a page already read. Within one second that fills a whole page there is no value to page
   * by: offsets are used there, and that second is read again afterwards until a reading finds no row it had not seen.
   */
  async function listUpdatedSince<T extends { id: string; updated_at: number }>(
    what: string,
    path: string,
    params: Record<string, string | number>,
    since: number,
    schema: Parameters<typeof listEnvelope>[0],
  ): Promise<T[]> {
    const byId = new Map<string, T>();
    let requests = 0;
    /** Reads from `start` on into `byId`; the first second paged by offset, if any. */
    const readFrom = async (start: number): Promise<number | null> => {
      let from = start;
      let page = 1;
      let offsetSecond: number | null = null;
      while (requests++ < MAX_PAGES) {
        const body = await http.request(
          what,
          { method: 'GET', url: path, params: { ...params, updated_at: from, sort: 'updated_at|asc', per_page: pageSize, page } },
          listEnvelope(schema),
        );
        const rows = body.data as T[];
        // A row read twice (at the boundary second, or changed meanwhile) keeps its newest reading.
        for (const r of rows) {
          const known = byId.get(r.id);
          if (!known || r.updated_at >= known.updated_at) byId.set(r.id, r);
        }
        const p = body.meta?.pagination;
        if (rows.length === 0 || !p || p.current_page >= p.total_pages) return offsetSecond;
        const newest = Math.max(...rows.map((r) => r.updated_at));
        if (newest > from) {
          from = newest;
          page = 1;
        } else {
          offsetSecond ??= from;
          page += 1;
        }
      }
      throw new ExternalServiceError('invoice-ninja', `${what}: more than ${MAX_PAGES} pages`, { retryable: false, code: 'too_many_pages' });
    };
    let offsetSecond = await readFrom(Math.floor(since));
    // A row of that second changed while it was paged shifts the unread rows back by one: read it again until nothing new.
    for (let again = 0; offsetSecond !== null && again < 3; again++) {
      const seen = byId.size;
      const next = await readFrom(offsetSecond);
      if (byId.size === seen) break;
      offsetSecond = next;
    }
    return [...byId.values()].sort((a, b) => a.updated_at - b.updated_at);
  }

  async function getClient(id: string): Promise<InClient> {
    const body = await http.request(`get client ${id}`, { method: 'GET', url: `/clients/${encodeURIComponent(id)}` }, clientItem);
    return rememberClient(body.data);
  }

  /** Any client with this number, including archived and deleted ones (numbers are unique across all of them). */
  async function findClientByNumber(number: string): Promise<InClient | null> {
    const rows = await listAll<RawClient>(`find client ${number}`, '/clients', { number }, clientSchema);
    const exact = rows.filter((r) => r.number === number).map(rememberClient);
    return exact.find((c) => !c.isDeleted && !c.isArchived) ?? exact.find((c) => !c.isDeleted) ?? exact[0] ?? null;
  }

  async function createClient(number: string, input: InClientInput): Promise<InClient> {
    const body = await http.request(`create client ${number}`, { method: 'POST', url: '/clients', data: clientBody(input, number) }, clientItem);
    return rememberClient(body.data);
  }

  /**
   * PUT with settings.currency_id always present (else the portal resets it to the company currency). When contacts
   * are given they replace the client's contacts: each keeps its portal id (given, or matched by email), so
   * invitations stay valid; omit contacts to leave them alone.
   */
  async function updateClient(id: string, input: Partial<InClientInput> & { currency: string }): Promise<InClient> {
    let contacts = input.contacts;
    if (contacts?.some((c) => !c.id && c.email)) {
      const current = await getClient(id);
      contacts = contacts.map((c) => {
        if (c.id || !c.email) return c;
        const match = current.contacts.find((x) => x.email.toLowerCase() === c.email!.toLowerCase());
        return match ? { ...c, id: match.id } : c;
      });
    }
    const body = await http.request(
      `update client ${id}`,
      { method: 'PUT', url: `/clients/${encodeURIComponent(id)}`, data: clientBody({ ...input, contacts }) },
      clientItem,
    );
    return rememberClient(body.data);
  }

  async function bulkClients(action: 'archive' | 'restore' | 'delete', ids: string[]): Promise<InClient[]> {
    const body = await http.request(`${action} clients`, { method: 'POST', url: '/clients/bulk', data: { action, ids } }, listEnvelope(clientSchema));
    return body.data.map(rememberClient);
  }

  /** Finds the client by ERP number (restoring it if archived or deleted) or creates it; never two per number. */
  async function findOrCreateClient(number: string, input: InClientInput): Promise<InClient> {
    const found = await findClientByNumber(number);
    if (found && !found.isArchived && !found.isDeleted) return found;
    if (found) return (await bulkClients('restore', [found.id]))[0] ?? getClient(found.id);
    try {
      return await createClient(number, input);
    } catch (err) {
      // A create whose response was lost and retried meets its own number: the client exists, use it.
      if (err instanceof ExternalServiceError && err.code === 'number_taken') {
        const again = await findClientByNumber(number);
        if (again) return again;
      }
      throw err;
    }
  }

  /** Multipart POST with _method=PUT (the route is PUT /clients/{id}/upload; PHP parses multipart only on POST). */
  async function uploadClientDocument(clientId: string, doc: { filename: string; content: Buffer | Uint8Array; isPublic: boolean }): Promise<InClient> {
    const form = new FormData();
    form.append('_method', 'PUT');
    form.append('is_public', doc.isPublic ? 'true' : 'false');
    form.append('documents[]', new Blob([new Uint8Array(doc.content)]), doc.filename);
    const body = await http.request(
      `upload document to client ${clientId}`,
      { method: 'POST', url: `/clients/${encodeURIComponent(clientId)}/upload`, data: form, headers: { 'Content-Type': 'multipart/form-data' } },
      clientItem,
    );
    return rememberClient(body.data);
  }

  const isNumberTaken = (err: unknown): err is ExternalServiceError => err instanceof ExternalServiceError && err.code === 'number_taken';

  async function findInvoiceByNumber(number: string): Promise<InInvoice | null> {
    const rows = await listAll<RawInvoice>(`find invoice ${number}`, '/invoices', { number, include: 'client' }, invoiceSchema);
    const exact = await Promise.all(rows.filter((r) => r.number === number).map(mapInvoice));
    return exact.find((i) => !i.isDeleted) ?? exact[0] ?? null;
  }

  async function createInvoice(input: InInvoiceInput, opts: { markSent?: boolean; sendEmail?: boolean } = {}): Promise<InInvoice> {
    try {
      return await postInvoice(input, opts);
    } catch (err) {
      // A retried create whose first attempt landed: the number is taken by the same client's invoice.
      const existing = isNumberTaken(err) ? await ownInvoiceByNumber(input) : null;
      if (existing) return existing;
      throw err;
    }
  }

  /**
   * Creates the invoice unless the portal already has its number (deleted ones included), without looking first: one
   * request for a new invoice. `taken` whenever the portal refuses the number, even on a retry after an answer that
   * never came: an invoice made earlier (by an earlier attempt, since paid on, or by hand) must not pass for a new one.
   */
  async function createNewInvoice(
    input: InInvoiceInput & { number: string },
    opts: { markSent?: boolean; sendEmail?: boolean } = {},
  ): Promise<{ created: InInvoice } | { taken: ExternalServiceError }> {
    try {
      return { created: await postInvoice(input, opts) };
    } catch (err) {
      if (isNumberTaken(err)) return { taken: err };
      throw err;
    }
  }

  async function postInvoice(input: InInvoiceInput, opts: { markSent?: boolean; sendEmail?: boolean }): Promise<InInvoice> {
    const params: Record<string, string> = { include: 'client' };
    if (opts.sendEmail) params.send_email = 'true';
    else if (opts.markSent) params.mark_sent = 'true';
    const body = await http.request(`create invoice ${input.number ?? ''}`.trim(), { method: 'POST', url: '/invoices', params, data: invoiceBody(input) }, invoiceItem);
    return mapInvoice(body.data);
  }

  /** The live invoice of this number and client, or null. */
  async function ownInvoiceByNumber(input: InInvoiceInput): Promise<InInvoice | null> {
    if (!input.number) return null;
    const existing = await findInvoiceByNumber(input.number);
    return existing && existing.clientId === input.clientId && !existing.isDeleted ? existing : null;
  }

  /** PUT; `lines`, when given, replace every line (the portal drops gateway-fee lines callers send). */
  async function updateInvoice(
    id: string,
    input: Partial<Omit<InInvoiceInput, 'clientId'>> & { currency: string },
    opts: { markSent?: boolean; sendEmail?: boolean } = {},
  ): Promise<InInvoice> {
    const params: Record<string, string> = { include: 'client' };
    if (opts.sendEmail) params.send_email = 'true';
    else if (opts.markSent) params.mark_sent = 'true';
    const body = await http.request(`update invoice ${id}`, { method: 'PUT', url: `/invoices/${encodeURIComponent(id)}`, params, data: invoiceBody(input) }, invoiceItem);
    return mapInvoice(body.data);
  }

  async function getInvoice(id: string): Promise<InInvoice> {
    const body = await http.request(`get invoice ${id}`, { method: 'GET', url: `/invoices/${encodeURIComponent(id)}`, params: { include: 'client' } }, invoiceItem);
    return mapInvoice(body.data);
  }

  /**
   * The invoice with its payments (`include=payments`): one request however many payments the client has made on
   * other invoices. Invoice Ninja loads the include after the invoice, so every fee line and every payment in the
   * invoice's amounts has its payment listed, while a payment made in between may be listed and not yet in them.
   */
  async function getInvoiceWithPayments(id: string): Promise<{ invoice: InInvoice; payments: InPayment[] }> {
    const body = await http.request(
      `get invoice ${id} with its payments`,
      { method: 'GET', url: `/invoices/${encodeURIComponent(id)}`, params: { include: 'client,payments' } },
      invoiceWithPaymentsItem,
    );
    const invoice = await mapInvoice(body.data);
    return { invoice, payments: body.data.payments.filter((p) => p.client_id === invoice.clientId).map((p) => toPayment(p, companyCurrency)) };
  }

  /** Every invoice changed at or after `unixSeconds` (views touch updated_at too), oldest first, all pages. */
  async function listInvoicesUpdatedSince(unixSeconds: number): Promise<InInvoice[]> {
    const rows = await listUpdatedSince<RawInvoice>('list invoices', '/invoices', {}, unixSeconds, invoiceSchema);
    const out: InInvoice[] = [];
    for (const r of rows) out.push(await mapInvoice(r));
    return out;
  }

  async function bulkInvoices(action: BulkInvoiceAction, ids: string[]): Promise<InInvoice[]> {
    const body = await http.request(`bulk ${action} invoices`, { method: 'POST', url: '/invoices/bulk', data: { action, ids } }, listEnvelope(invoiceSchema));
    const out: InInvoice[] = [];
    for (const r of body.data) out.push(await mapInvoice(r));
    return out;
  }

  async function getPayment(id: string): Promise<InPayment> {
    // Its invoices and client in the same request: what the payment's intake reads next.
    const body = await http.request(`get payment ${id}`, { method: 'GET', url: `/payments/${encodeURIComponent(id)}`, params: { include: 'invoices,client' } }, paymentItem);
    const payment = toPayment(body.data, companyCurrency);
    return body.data.client ? { ...payment, clientRecord: rememberClient(body.data.client) } : payment;
  }

  /** A payment of this client with exactly this transaction reference (the filter is a LIKE over several columns). */
  async function findPaymentByReference(clientId: string, transactionReference: string): Promise<InPayment | null> {
    return (await findPaymentsByReference(clientId, (r) => r === transactionReference, transactionReference))[0] ?? null;
  }

  /** This client's payments whose transaction reference passes `accept`, among those the portal's filter `like` finds. */
  async function findPaymentsByReference(clientId: string, accept: (reference: string) => boolean, like: string): Promise<InPayment[]> {
    const rows = await listAll<RawPayment>(`find payments ${like}`, '/payments', { client_id: clientId, filter: like, include: 'invoices' }, paymentSchema);
    return rows.filter((r) => r.client_id === clientId && accept(r.transaction_reference)).map((r) => toPayment(r, companyCurrency));
  }

  /**
   * Records a payment. The idempotency key makes a replay fail with 422; when that happens (our earlier attempt
   * landed but its answer was lost) the payment is found by its transaction reference and returned, so callers can
   * retry freely. The 1-second duplicate guard (400 "Duplicate request") is waited out and retried.
   */
  async function createPayment(input: CreatePaymentInput): Promise<InPayment> {
    if (input.idempotencyKey.length > 64) {
      throw new ExternalServiceError('invoice-ninja', 'idempotency key longer than 64 characters', { retryable: false, code: 'invalid_input' });
    }
    const data = {
      client_id: input.clientId,
      amount: toDecimalNumber(input.amountMinor, input.currency),
      date: input.date,
      type_id: input.typeId ?? '1',
      transaction_reference: input.transactionReference,
      private_notes: input.privateNotes ?? '',
      idempotency_key: input.idempotencyKey,
      email_receipt: input.emailReceipt ?? false,
      invoices: input.invoices.map((i) => ({ invoice_id: i.invoiceId, amount: toDecimalNumber(i.amountMinor, input.currency) })),
    };
    try {
      const body = await http.request(`create payment ${input.transactionReference}`, { method: 'POST', url: '/payments', params: { include: 'invoices' }, data }, paymentItem);
      return toPayment(body.data, companyCurrency);
    } catch (err) {
      if (!(err instanceof ExternalServiceError) || err.code !== 'idempotency_key_taken') throw err;
      const existing = await findPaymentByReference(input.clientId, input.transactionReference);
      if (existing && existing.amount.minor === input.amountMinor) return existing;
      throw new ExternalServiceError(
        'invoice-ninja',
        `${err.message}; no payment of ${formatDecimal(input.amountMinor, input.currency)} with reference ${input.transactionReference} was found for client ${input.clientId}`,
        { status: err.status, retryable: false, code: 'idempotency_key_taken' },
      );
    }
  }

  async function listPaymentsUpdatedSince(unixSeconds: number): Promise<InPayment[]> {
    const rows = await listUpdatedSince<RawPayment>('list payments', '/payments', { include: 'invoices' }, unixSeconds, paymentSchema);
    return rows.map((r) => toPayment(r, companyCurrency));
  }

  /**
   * Every payment of one client, deleted ones included (PaymentFilters `client_id`), with their invoice applications;
   * with `createdSince` (unix seconds), only those created then or later (QueryFilters `created_at`, >=).
   */
  async function listClientPayments(clientId: string, opts: { createdSince?: number } = {}): Promise<InPayment[]> {
    const since = opts.createdSince === undefined ? undefined : Math.max(0, Math.floor(opts.createdSince));
    const params: Record<string, string | number> = { client_id: clientId, include: 'invoices' };
    if (since !== undefined) params.created_at = since;
    const rows = await listAll<RawPayment>('list client payments', '/payments', params, paymentSchema);
    return rows
      .filter((r) => r.client_id === clientId && (since === undefined || r.created_at >= since))
      .map((r) => toPayment(r, companyCurrency));
  }

  async function refundPayment(input: RefundInput): Promise<InPayment> {
    const data: Record<string, unknown> = { id: input.paymentId, date: input.date, gateway_refund: false, send_email: input.sendEmail ?? false };
    if (input.invoices?.length) {
      data.invoices = input.invoices.map((i) => ({ invoice_id: i.invoiceId, amount: toDecimalNumber(i.amountMinor, input.currency) }));
      data.amount = toDecimalNumber(input.invoices.reduce((s, i) => s + i.amountMinor, 0), input.currency);
    } else if (input.amountMinor !== undefined) {
      data.amount = toDecimalNumber(input.amountMinor, input.currency);
    }
    const body = await http.request(`refund payment ${input.paymentId}`, { method: 'POST', url: '/payments/refund', params: { include: 'invoices' }, data }, paymentItem);
    return toPayment(body.data, companyCurrency);
  }

  /** Voids the payment (status 2, deleted); the portal gives the invoices their balances back. */
  async function deletePayment(id: string): Promise<InPayment> {
    const body = await http.request(`delete payment ${id}`, { method: 'DELETE', url: `/payments/${encodeURIComponent(id)}`, params: { include: 'invoices' } }, paymentItem);
    return toPayment(body.data, companyCurrency);
  }

  async function createWebhook(eventId: number, targetUrl: string, headers: Record<string, string> = {}): Promise<InWebhook> {
    const body = await http.request(
      `create webhook for event ${eventId}`,
      { method: 'POST', url: '/webhooks', data: { event_id: String(eventId), target_url: targetUrl, format: 'JSON', rest_method: 'post', headers } },
      webhookItem,
    );
    return toWebhook(body.data);
  }

  /** Rewrites a webhook whole (the fields a create takes): its headers carry the shared secret. */
  async function updateWebhook(id: string, eventId: number, targetUrl: string, headers: Record<string, string>): Promise<InWebhook> {
    const body = await http.request(
      `update webhook ${id}`,
      { method: 'PUT', url: `/webhooks/${encodeURIComponent(id)}`, data: { event_id: String(eventId), target_url: targetUrl, format: 'JSON', rest_method: 'post', headers } },
      webhookItem,
    );
    return toWebhook(body.data);
  }

  async function listWebhooks(): Promise<InWebhook[]> {
    const rows = await listAll<RawWebhook>('list webhooks', '/webhooks', {}, webhookSchema);
    return rows.map(toWebhook);
  }

  async function deleteWebhook(id: string): Promise<void> {
    await http.request(`delete webhook ${id}`, { method: 'DELETE', url: `/webhooks/${encodeURIComponent(id)}` }, webhookItem);
  }

  async function restoreWebhooks(ids: string[]): Promise<InWebhook[]> {
    const body = await http.request('restore webhooks', { method: 'POST', url: '/webhooks/bulk', data: { action: 'restore', ids } }, listEnvelope(webhookSchema));
    return body.data.map(toWebhook);
  }

  return {
    getClient,
    findClientByNumber,
    createClient,
    updateClient,
    findOrCreateClient,
    bulkClients,
    uploadClientDocument,
    findInvoiceByNumber,
    createInvoice,
    createNewInvoice,
    updateInvoice,
    getInvoice,
    listInvoicesUpdatedSince,
    bulkInvoices,
    getPayment,
    findPaymentByReference,
    findPaymentsByReference,
    createPayment,
    listPaymentsUpdatedSince,
    listClientPayments,
    getInvoiceWithPayments,
    refundPayment,
    deletePayment,
    createWebhook,
    updateWebhook,
    listWebhooks,
    deleteWebhook,
    restoreWebhooks,
  };
}

export type InvoiceNinjaClient = ReturnType<typeof createInvoiceNinjaClient>;

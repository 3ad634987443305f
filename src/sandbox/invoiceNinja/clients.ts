import { z } from 'zod';
import { currencyCodeFor, currencyIdFor, USD_CURRENCY_ID } from '../../adapters/invoiceNinja/currencies';
import { ApiError, DELETED_RECORD, invalid } from './apiHttp';
import type { SandboxContext } from './context';
import { CLIENT_TEXT_FIELDS, type ClientRow, CONTACT_TEXT_FIELDS, type ContactRow, EVENT } from './model';
import { nowSeconds, randomKey } from './store';
import { bool, parseBody, text } from './validation';

// Clients and contacts (contract §2): number and id_number unique per company including archived and deleted rows;
// contacts fully replaced on update when sent (kept by hashed id, new without one); settings merged key by key with
// empty values dropped; and the gotcha that an update without settings.currency_id resets it to the company currency.

const PASSWORD = /^(?=.*[a-z])(?=.*[A-Z])(?=.*\d).{7,}$/;

const contactSchema = z
  .object({
    id: z.string().optional(),
    ...Object.fromEntries(CONTACT_TEXT_FIELDS.map((f) => [f, text])),
    email: z.union([z.email('must be a valid email address'), z.literal(''), z.null()]).optional(),
    send_email: bool,
    is_primary: bool,
    password: z.string().regex(PASSWORD, 'must be at least 7 characters with upper and lower case letters and a number').optional(),
  })
  .loose();

const clientSchema = z
  .object({
    ...Object.fromEntries(CLIENT_TEXT_FIELDS.map((f) => [f, text])),
    number: text,
    id_number: text,
    country_id: text,
    shipping_country_id: text,
    currency_code: z.string().optional(),
    is_tax_exempt: bool,
    classification: z
      .enum(['individual', 'business', 'company', 'partnership', 'trust', 'charity', 'government', 'other', ''])
      .optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
    contacts: z.array(contactSchema).optional(),
  })
  .loose();

type ClientBody = z.infer<typeof clientSchema>;
type ContactBody = z.infer<typeof contactSchema>;

function emptyText<K extends string>(fields: readonly K[]): Record<K, string> {
  return Object.fromEntries(fields.map((f) => [f, ''])) as Record<K, string>;
}

function assertUnique(ctx: SandboxContext, field: 'number' | 'id_number', value: string | undefined, selfId?: string) {
  if (!value) return;
  if (ctx.store.clients().some((c) => c.id !== selfId && c[field] === value)) {
    throw invalid({ [field]: [`The ${field.replace('_', ' ')} has already been taken.`] });
  }
}

/** Merges settings the way ClientGroupSettingsSaver does: key by key, dropping empty values. */
function mergeSettings(current: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out = { ...current };
  for (const [k, v] of Object.entries(patch)) {
    if (v === '' || v === null || v === undefined) continue;
    out[k] = k === 'currency_id' ? String(v) : v;
  }
  return out;
}

function checkCurrency(settings: Record<string, unknown>) {
  if (!currencyCodeFor(settings.currency_id as string)) {
    throw invalid({ 'settings.currency_id': ['The selected currency id is invalid.'] });
  }
}

function saveContacts(ctx: SandboxContext, client: ClientRow, input: ContactBody[]): void {
  const now = nowSeconds();
  const emails = new Map<string, number>();
  input.forEach((c, i) => {
    const email = (c.email ?? '').toLowerCase();
    if (!email) return;
    if (emails.has(email)) throw invalid({ [`contacts.${i}.email`]: ['The contacts email field has a duplicate value.'] });
    emails.set(email, i);
  });
  const next: ContactRow[] = input.map((c) => {
    const existing = c.id ? client.contacts.find((ct) => ct.id === c.id) : undefined;
    const row: ContactRow = existing ?? {
      id: ctx.store.nextId('contact'),
      text: emptyText(CONTACT_TEXT_FIELDS),
      send_email: false,
      is_primary: false,
      contact_key: randomKey(40),
      has_password: false,
      created_at: now,
      updated_at: now,
    };
    for (const f of CONTACT_TEXT_FIELDS) {
      const v = (c as Record<string, unknown>)[f];
      if (typeof v === 'string') row.text[f] = v;
    }
    if (c.email === null) row.text.email = '';
    if (c.send_email !== undefined) row.send_email = c.send_email;
    if (c.is_primary !== undefined) row.is_primary = c.is_primary;
    if (c.password) row.has_password = true;
    row.updated_at = now;
    return row;
  });
  // A client always keeps one contact; someone must receive email; the first primary (or the first) is primary.
  if (next.length === 0) next.push({ id: ctx.store.nextId('contact'), text: emptyText(CONTACT_TEXT_FIELDS), send_email: true, is_primary: true, contact_key: randomKey(40), has_password: false, created_at: now, updated_at: now });
  if (!next.some((c) => c.send_email)) next[0].send_email = true;
  const primary = next.find((c) => c.is_primary) ?? next[0];
  for (const c of next) c.is_primary = c === primary;
  client.contacts = next;
}

function applyFields(client: ClientRow, body: ClientBody) {
  for (const f of CLIENT_TEXT_FIELDS) {
    const v = (body as Record<string, unknown>)[f];
    if (typeof v === 'string') client.text[f] = v;
  }
  if (body.number !== undefined && body.number !== '') client.number = body.number;
  if (body.id_number !== undefined) client.id_number = body.id_number;
  if (body.country_id !== undefined) client.country_id = body.country_id;
  if (body.shipping_country_id !== undefined) client.shipping_country_id = body.shipping_country_id;
  if (body.is_tax_exempt !== undefined) client.is_tax_exempt = body.is_tax_exempt;
}

function settingsFrom(body: ClientBody): Record<string, unknown> {
  const settings = { ...(body.settings ?? {}) };
  if (body.currency_code) {
    const id = currencyIdFor(body.currency_code);
    if (!id) throw invalid({ currency_code: ['The selected currency code is invalid.'] });
    settings.currency_id = id;
  }
  return settings;
}

export function createClient(ctx: SandboxContext, raw: unknown): ClientRow {
  const body = parseBody(clientSchema, raw);
  assertUnique(ctx, 'number', body.number);
  assertUnique(ctx, 'id_number', body.id_number);
  const settings = mergeSettings({ currency_id: USD_CURRENCY_ID }, settingsFrom(body));
  checkCurrency(settings);
  const now = nowSeconds();
  const client: ClientRow = {
    id: ctx.store.nextId('client'),
    number: '',
    id_number: '',
    text: emptyText(CLIENT_TEXT_FIELDS),
    country_id: '',
    shipping_country_id: '',
    is_tax_exempt: false,
    settings,
    contacts: [],
    documents: [],
    gateway_tokens: [],
    client_hash: randomKey(40),
    is_deleted: false,
    archived_at: 0,
    created_at: now,
    updated_at: now,
  };
  applyFields(client, body);
  if (!client.number) client.number = ctx.store.nextNumber('client', (n) => ctx.store.clients().some((c) => c.number === n));
  saveContacts(ctx, client, body.contacts ?? []);
  if (!client.text.name) client.text.name = '';
  ctx.store.state.clients[client.id] = client;
  ctx.store.touch();
  ctx.hooks.fire(EVENT.CREATE_CLIENT, 'client', client.id);
  return client;
}

export function updateClient(ctx: SandboxContext, client: ClientRow, raw: unknown): ClientRow {
  if (client.is_deleted) throw new ApiError(400, DELETED_RECORD);
  const body = parseBody(clientSchema, raw);
  assertUnique(ctx, 'number', body.number, client.id);
  assertUnique(ctx, 'id_number', body.id_number, client.id);
  const patch = settingsFrom(body);
  // UpdateClientRequest injects the company currency when the payload has no settings.currency_id.
  if (patch.currency_id === undefined || patch.currency_id === '') patch.currency_id = USD_CURRENCY_ID;
  const settings = mergeSettings(client.settings, patch);
  checkCurrency(settings);
  applyFields(client, body);
  client.settings = settings;
  if (body.contacts) saveContacts(ctx, client, body.contacts);
  client.updated_at = nowSeconds();
  ctx.store.touch();
  ctx.hooks.fire(EVENT.UPDATE_CLIENT, 'client', client.id);
  return client;
}

export function bulkClients(ctx: SandboxContext, action: string, ids: string[]): ClientRow[] {
  const now = nowSeconds();
  const rows = ids.map((id) => ctx.store.client(id)).filter((c): c is ClientRow => !!c);
  for (const c of rows) {
    if (action === 'archive' && !c.is_deleted) {
      c.archived_at = now;
      ctx.hooks.fire(EVENT.ARCHIVE_CLIENT, 'client', c.id);
    } else if (action === 'restore') {
      c.archived_at = 0;
      c.is_deleted = false;
      ctx.hooks.fire(EVENT.RESTORE_CLIENT, 'client', c.id);
    } else if (action === 'delete') {
      c.is_deleted = true;
      c.archived_at = now;
      ctx.hooks.fire(EVENT.DELETE_CLIENT, 'client', c.id);
    } else if (!['archive', 'restore', 'delete'].includes(action)) {
      throw invalid({ action: ['The selected action is invalid.'] });
    }
    c.updated_at = now;
  }
  ctx.store.touch();
  return rows;
}

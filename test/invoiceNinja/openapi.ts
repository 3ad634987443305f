import fs from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats';

// Validation against Invoice Ninja's own OpenAPI document (test/fixtures/invoice-ninja/openapi-subset.json, a verbatim
// subset of openapi/api-docs.yaml at the contract's basis). Where the document disagrees with the server's code the
// contract says the transformers win (contract §0); each such point is patched here, with its reason, before compiling.

type Json = any;

const spec: Json = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/invoice-ninja/openapi-subset.json'), 'utf8'));

export interface Deviation {
  where: string;
  why: string;
  patch: (doc: Json) => void;
}

export const DEVIATIONS: Deviation[] = [
  {
    where: 'Client.country_id / shipping_country_id / industry_id / size_id',
    why: "the spec says number; ClientTransformer casts them to strings ('' when unset)",
    patch: (d) => {
      for (const f of ['country_id', 'shipping_country_id', 'industry_id', 'size_id']) d.components.schemas.Client.properties[f].type = ['string', 'number'];
    },
  },
  {
    where: 'ClientRequest.required',
    why: 'the spec requires contacts and country_id; StoreClientRequest requires no field (contract §2)',
    patch: (d) => {
      delete d.components.schemas.ClientRequest.required;
    },
  },
  {
    where: 'Payment.paymentables',
    why: 'the spec has a single Paymentable; PaymentTransformer includes the collection (an array)',
    patch: (d) => {
      d.components.schemas.Payment.properties.paymentables = { type: 'array', items: { $ref: '#/components/schemas/Paymentable' } };
    },
  },
  {
    where: 'InvoicePaymentable.amount and Payment.invoices',
    why: 'the spec types the applied amount as a string, the API takes JSON numbers (contract §4); with include=invoices the items are full invoices (PaymentTransformer::includeInvoices)',
    patch: (d) => {
      d.components.schemas.InvoicePaymentable.properties.amount.type = ['number', 'string'];
      d.components.schemas.Payment.properties.invoices.items = {
        anyOf: [
          { allOf: [{ $ref: '#/components/schemas/InvoicePaymentable' }, { required: ['invoice_id', 'amount'] }] },
          { allOf: [{ $ref: '#/components/schemas/Invoice' }, { required: ['id', 'client_id', 'amount', 'balance'] }] },
        ],
      };
    },
  },
];

/** A webhook's fields as StoreWebhookRequest takes them (contract §5). */
const WEBHOOK_BODY: Json = {
  type: 'object',
  required: ['target_url', 'event_id'],
  additionalProperties: false,
  properties: {
    target_url: { type: 'string', format: 'uri' },
    event_id: { type: ['string', 'integer'] },
    rest_method: { enum: ['post', 'put'] },
    format: { enum: ['JSON', 'UBL'] },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

/** Operations whose request body the spec does not describe (or describes wrongly): checked against the contract. */
export const CONTRACT_BODIES: Record<string, { why: string; schema: Json }> = {
  'PUT /api/v1/invoices/{id}': {
    why: 'the spec has no requestBody for the update; UpdateInvoiceRequest takes InvoiceRequest fields, client_id optional (it may not change)',
    schema: { $ref: 'in#/components/schemas/InvoiceUpdateRequest' },
  },
  'POST /api/v1/webhooks': {
    why: 'the spec has no requestBody; StoreWebhookRequest rules (contract §5)',
    schema: WEBHOOK_BODY,
  },
  'PUT /api/v1/webhooks/{id}': {
    why: 'the spec has no requestBody for the update; arsync sends the fields a create takes (StoreWebhookRequest rules, contract §5)',
    schema: WEBHOOK_BODY,
  },
  'POST /api/v1/webhooks/bulk': {
    why: 'the spec documents an array of integers; BulkWebhookRequest takes {action, ids:[hashed ids]} like every bulk route',
    schema: {
      type: 'object',
      required: ['action', 'ids'],
      properties: { action: { enum: ['archive', 'restore', 'delete'] }, ids: { type: 'array', minItems: 1, items: { type: 'string' } } },
    },
  },
  'POST /api/v1/clients/bulk': {
    why: 'GenericBulkAction only names `action`; BulkClientRequest also requires ids (contract §2)',
    schema: {
      allOf: [
        { $ref: 'in#/components/schemas/GenericBulkAction' },
        { type: 'object', required: ['action', 'ids'], properties: { ids: { type: 'array', minItems: 1, items: { type: 'string' } } } },
      ],
    },
  },
};

/** Query parameters the contract documents beyond each operation's parameter list (paging and triggered actions). */
export const CONTRACT_QUERY = new Set(['per_page', 'page', 'mark_sent', 'send_email']);

function build(): { ajv: Ajv; doc: Json } {
  const doc = JSON.parse(JSON.stringify(spec));
  for (const d of DEVIATIONS) d.patch(doc);
  const { required: _createOnly, ...update } = doc.components.schemas.InvoiceRequest;
  doc.components.schemas.InvoiceUpdateRequest = update;
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv, ['float', 'double', 'int32', 'int64', 'binary', 'uri']);
  // OpenAPI misuses `format` for plain types in a few places.
  ajv.addFormat('integer', true);
  ajv.addFormat('string', true);
  // Transformers print unset dates as '' and datetimes as "Y-m-d H:i:s" (InvoiceInvitationTransformer, contract §3).
  const date = fullFormats.date as { validate: (s: string) => boolean };
  const isoDateTime = fullFormats['iso-date-time'] as { validate: (s: string) => boolean };
  ajv.addFormat('date', { type: 'string', validate: (s: string) => s === '' || date.validate(s) });
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => s === '' || isoDateTime.validate(s) });
  ajv.addSchema(doc, 'in');
  return { ajv, doc };
}

const { ajv, doc } = build();
const compiled = new Map<string, ValidateFunction>();

function validator(key: string, schema: Json): ValidateFunction {
  let v = compiled.get(key);
  if (!v) {
    v = ajv.compile(schema);
    compiled.set(key, v);
  }
  return v;
}

const refToIn = (schema: Json): Json => JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"in#/components/'));

export function operation(method: string, specPath: string): Json | undefined {
  return doc.paths[specPath]?.[method.toLowerCase()];
}

function resolveParam(p: Json): Json {
  if (!p.$ref) return p;
  const name = p.$ref.split('/').pop();
  return doc.components.parameters[name];
}

export interface Problem {
  exchange: string;
  issue: string;
}

function errorsText(v: ValidateFunction): string {
  return (v.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}`).join('; ');
}

/** Checks one request the client sent: headers and query names against the operation, the JSON body against its schema. */
export function checkRequest(
  method: string,
  specPath: string,
  headers: Record<string, string | string[] | undefined>,
  query: Record<string, unknown>,
  body: unknown,
  contentType: string,
): string[] {
  const op = operation(method, specPath);
  if (!op) return [`${method} ${specPath} is not in the spec subset`];
  const issues: string[] = [];
  const params = (op.parameters ?? []).map(resolveParam);
  for (const p of params.filter((x: Json) => x.in === 'header' && x.required)) {
    if (!headers[p.name.toLowerCase()]) issues.push(`missing required header ${p.name}`);
  }
  if (headers['x-requested-with'] !== 'XMLHttpRequest') issues.push('X-Requested-With is not XMLHttpRequest');
  const known = new Set(params.filter((x: Json) => x.in === 'query').map((x: Json) => x.name));
  for (const name of Object.keys(query)) if (!known.has(name) && !CONTRACT_QUERY.has(name)) issues.push(`query parameter ${name} is not documented`);

  const key = `${method.toUpperCase()} ${specPath}`;
  if (contentType.startsWith('multipart/form-data')) return issues;
  const contract = CONTRACT_BODIES[key];
  const bodySchema = op.requestBody?.content?.['application/json']?.schema;
  if (body === undefined || body === null || (typeof body === 'object' && Object.keys(body as object).length === 0 && !bodySchema && !contract)) return issues;
  const schema = contract ? contract.schema : bodySchema && refToIn(bodySchema);
  if (!schema) return [...issues, `${key} sends a body the spec does not describe`];
  const v = validator(`req ${key}`, schema);
  if (!v(body)) issues.push(`request body: ${errorsText(v)}`);
  return issues;
}

/**
 * Checks one response against the operation's response for that status (or `default`). Single records arrive in the
 * {data} envelope (contract §1) although the spec references the record itself: the record inside is validated.
 */
export function checkResponse(method: string, specPath: string, status: number, body: unknown): { issues: string[]; covered: boolean } {
  const op = operation(method, specPath);
  if (!op) return { issues: [`${method} ${specPath} is not in the spec subset`], covered: false };
  let response = op.responses?.[String(status)] ?? op.responses?.[`${String(status)[0]}XX`] ?? op.responses?.default;
  if (response?.$ref) response = doc.components.responses[response.$ref.split('/').pop()];
  const schema = response?.content?.['application/json']?.schema;
  if (!schema) return { issues: [], covered: false };
  const isList = schema.type === 'object' && schema.properties?.data?.type === 'array';
  const target = status < 300 && !isList && body && typeof body === 'object' && 'data' in (body as object) ? (body as { data: unknown }).data : body;
  const v = validator(`res ${method} ${specPath} ${status}`, refToIn(schema));
  if (Array.isArray(target) && !isList) {
    // bulk routes answer a list of records where the spec names one record
    const bad = target.filter((t) => !v(t));
    return { issues: bad.length ? [`response item: ${errorsText(v)}`] : [], covered: true };
  }
  return { issues: v(target) ? [] : [`response: ${errorsText(v)}`], covered: true };
}

/** Validates a record against a named component schema (webhook bodies are bare records). */
export function checkSchema(name: string, value: unknown): string[] {
  const v = validator(`schema ${name}`, { $ref: `in#/components/schemas/${name}` });
  return v(value) ? [] : [errorsText(v)];
}

export const SPEC_SOURCE: string = spec['x-source'].file;

/** The spec path template a concrete request path belongs to, literal segments winning over {parameters}. */
export function matchPath(method: string, urlPath: string): string | undefined {
  const candidates = Object.keys(doc.paths).filter((p) => {
    if (!doc.paths[p][method.toLowerCase()]) return false;
    const re = new RegExp(`^${p.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    return re.test(urlPath);
  });
  return candidates.sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))[0];
}

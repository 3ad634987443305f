import type { FastifyReply, FastifyRequest } from 'fastify';

// HTTP conventions of Invoice Ninja's API (contract §1): the {data} / {data, meta:{pagination}} envelope, Laravel's
// error bodies, 400 (not 404) for an unknown hashed id, and JSON errors only when the request "expects JSON"
// (Accept: application/json or X-Requested-With: XMLHttpRequest); otherwise a validation failure is Laravel's
// redirect back to the previous page.

export const APP_VERSION = '5.10.42';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: Record<string, string[] | string>,
  ) {
    super(message);
  }
}

/** 422 with Laravel's validation body. */
export function invalid(errors: Record<string, string[] | string>): ApiError {
  return new ApiError(422, 'The given data was invalid.', errors);
}

export function notFound(model: 'Client' | 'Invoice' | 'Payment' | 'Webhook' | 'Document'): ApiError {
  return new ApiError(400, `No query results for model [App\\Models\\${model}]`);
}

export const DELETED_RECORD = 'Record is deleted and cannot be edited. Restore the record to enable editing';

export function expectsJson(req: FastifyRequest): boolean {
  const accept = String(req.headers.accept ?? '');
  return /application\/json|\+json/i.test(accept) || String(req.headers['x-requested-with'] ?? '') === 'XMLHttpRequest';
}

export function sendApiError(req: FastifyRequest, reply: FastifyReply, err: ApiError): FastifyReply {
  if ((err.status === 422 || err.status === 400) && !expectsJson(req)) {
    // Laravel's ValidationException without expectsJson(): redirect back with the errors in the session.
    const back = typeof req.headers.referer === 'string' ? req.headers.referer : '/';
    return reply
      .code(302)
      .header('location', back)
      .type('text/html; charset=utf-8')
      .send(`<!DOCTYPE html><html><head><meta http-equiv="refresh" content="0;url='${back}'"></head><body>Redirecting to ${back}</body></html>`);
  }
  const body: Record<string, unknown> = { message: err.message };
  if (err.errors) body.errors = err.errors;
  return reply.code(err.status).send(body);
}

export function item(data: unknown): { data: unknown } {
  return { data };
}

/** Laravel's length-aware paginator as Fractal's ArraySerializer prints it. */
export function paginate<T>(req: FastifyRequest, rows: readonly T[], map: (row: T) => unknown, baseUrl: string) {
  const q = req.query as Record<string, string | undefined>;
  const perPage = Math.min(5000, Math.max(1, Number.parseInt(q.per_page ?? '20', 10) || 20));
  const totalPages = Math.max(1, Math.ceil(rows.length / perPage));
  const page = Math.max(1, Number.parseInt(q.page ?? '1', 10) || 1);
  const slice = rows.slice((page - 1) * perPage, page * perPage);
  const links: Record<string, string> = {};
  const pageUrl = (p: number) => {
    const url = new URL(req.url, baseUrl);
    url.searchParams.set('page', String(p));
    return url.toString();
  };
  if (page < totalPages) links.next = pageUrl(page + 1);
  if (page > 1) links.previous = pageUrl(page - 1);
  return {
    data: slice.map(map),
    meta: {
      pagination: { total: rows.length, count: slice.length, per_page: perPage, current_page: page, total_pages: totalPages, links },
    },
  };
}

export function truthy(v: unknown): boolean {
  return v === true || v === 'true' || v === '1' || v === 1 || v === 'on';
}

/** `updated_at=` / `created_at=`: a unix timestamp or anything strtotime() understands (QueryFilters). */
export function parseSince(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (/^\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.floor(t / 1000);
}

interface Lifecycle {
  is_deleted: boolean;
  archived_at: number;
  updated_at: number;
  created_at: number;
}

/** Filters every list supports: status (active/archived/deleted), is_deleted, updated_at/created_at (>=), sort. */
export function commonFilters<T extends Lifecycle>(req: FastifyRequest, rows: readonly T[]): readonly T[] {
  const q = req.query as Record<string, string | undefined>;
  let out = rows;
  if (q.status) {
    const wanted = new Set(q.status.split(',').map((s) => s.trim()));
    out = out.filter(
      (r) =>
        (wanted.has('active') && !r.is_deleted && r.archived_at === 0) ||
        (wanted.has('archived') && !r.is_deleted && r.archived_at > 0) ||
        (wanted.has('deleted') && r.is_deleted),
    );
  }
  if (q.is_deleted === 'true' || q.is_deleted === 'false') out = out.filter((r) => r.is_deleted === (q.is_deleted === 'true'));
  const updated = parseSince(q.updated_at);
  if (updated !== undefined) out = out.filter((r) => r.updated_at >= updated);
  const created = parseSince(q.created_at);
  if (created !== undefined) out = out.filter((r) => r.created_at >= created);
  return sortRows(out, q.sort);
}

function sortRows<T>(rows: readonly T[], sort: string | undefined): readonly T[] {
  const [col, dir] = (sort ?? '').split('|');
  if (!col || (dir !== 'asc' && dir !== 'desc')) return rows;
  const sign = dir === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = (a as Record<string, unknown>)[col];
    const y = (b as Record<string, unknown>)[col];
    if (typeof x === 'number' && typeof y === 'number') return (x - y) * sign;
    return String(x ?? '').localeCompare(String(y ?? '')) * sign;
  });
}

import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { commonFilters, invalid, item, notFound, paginate } from '../apiHttp';
import type { SandboxContext } from '../context';
import type { WebhookRow } from '../model';
import { nowSeconds } from '../store';
import { webhookOut } from '../transform';
import { parseBody } from '../validation';
import { bulkSchema } from './clients';

// /api/v1/webhooks (StoreWebhookRequest): target_url and event_id required (event_id is not checked against the
// list), rest_method post|put, format JSON, headers as a flat map sent verbatim on every delivery.

const webhookSchema = z
  .object({
    target_url: z.url('The target url format is invalid.').optional(),
    event_id: z.union([z.string().min(1), z.number().int()]).transform(String).optional(),
    rest_method: z.enum(['post', 'put']).optional(),
    format: z.string().optional(),
    headers: z.record(z.string(), z.string()).optional(),
  })
  .loose();

export function registerWebhookRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  const find = (id: string) => {
    const w = Object.prototype.hasOwnProperty.call(ctx.store.state.webhooks, id) ? ctx.store.state.webhooks[id] : undefined;
    if (!w) throw notFound('Webhook');
    return w;
  };

  app.get('/api/v1/webhooks', async (req) => paginate(req, commonFilters(req, Object.values(ctx.store.state.webhooks)), webhookOut, ctx.publicUrl()));

  app.post('/api/v1/webhooks', async (req) => {
    const body = parseBody(webhookSchema, req.body);
    const errors: Record<string, string[]> = {};
    if (!body.target_url) errors.target_url = ['The target url field is required.'];
    if (!body.event_id) errors.event_id = ['The event id field is required.'];
    if (Object.keys(errors).length) throw invalid(errors);
    const now = nowSeconds();
    const row: WebhookRow = {
      id: ctx.store.nextId('webhook'),
      event_id: body.event_id!,
      target_url: body.target_url!,
      format: body.format ?? 'JSON',
      rest_method: body.rest_method ?? 'post',
      headers: body.headers ?? {},
      is_deleted: false,
      archived_at: 0,
      created_at: now,
      updated_at: now,
    };
    ctx.store.state.webhooks[row.id] = row;
    ctx.store.touch();
    return item(webhookOut(row));
  });

  app.get<{ Params: { id: string } }>('/api/v1/webhooks/:id', async (req) => item(webhookOut(find(req.params.id))));

  app.put<{ Params: { id: string } }>('/api/v1/webhooks/:id', async (req) => {
    const row = find(req.params.id);
    const body = parseBody(webhookSchema, req.body);
    if (body.target_url) row.target_url = body.target_url;
    if (body.event_id) row.event_id = body.event_id;
    if (body.rest_method) row.rest_method = body.rest_method;
    if (body.format) row.format = body.format;
    if (body.headers) row.headers = body.headers;
    row.updated_at = nowSeconds();
    ctx.store.touch();
    return item(webhookOut(row));
  });

  app.delete<{ Params: { id: string } }>('/api/v1/webhooks/:id', async (req) => {
    const row = find(req.params.id);
    row.is_deleted = true;
    row.archived_at = row.archived_at || nowSeconds();
    row.updated_at = nowSeconds();
    ctx.store.touch();
    return item(webhookOut(row));
  });

  app.post('/api/v1/webhooks/bulk', async (req) => {
    const body = parseBody(bulkSchema, req.body);
    if (!['archive', 'restore', 'delete'].includes(body.action)) throw invalid({ action: ['The selected action is invalid.'] });
    const rows = body.ids.filter((id) => Object.prototype.hasOwnProperty.call(ctx.store.state.webhooks, id)).map(find);
    const now = nowSeconds();
    for (const w of rows) {
      if (body.action === 'archive') w.archived_at = w.archived_at || now;
      if (body.action === 'restore') {
        w.archived_at = 0;
        w.is_deleted = false;
      }
      if (body.action === 'delete') {
        w.is_deleted = true;
        w.archived_at = w.archived_at || now;
      }
      w.updated_at = now;
    }
    ctx.store.touch();
    return { data: rows.map(webhookOut) };
  });
}

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ApiError, commonFilters, invalid, item, notFound, paginate, truthy } from '../apiHttp';
import { bulkClients, createClient, updateClient } from '../clients';
import type { SandboxContext } from '../context';
import { type ClientRow, EVENT } from '../model';
import { nowSeconds, sha1 } from '../store';
import { clientOut } from '../transform';
import { parseBody } from '../validation';

// /api/v1/clients: list with exact number / id_number / email filters, CRUD, bulk, and document upload
// (route PUT /clients/{id}/upload; clients send POST multipart with _method=PUT, contract §6).

const ALLOWED_EXTENSIONS = new Set(
  'png,ai,jpeg,jpg,tiff,pdf,gif,psd,txt,doc,xls,ppt,xlsx,docx,pptx,webp,xml,zip,csv,ods,odt,odp'.split(','),
);
const MAX_DOCUMENT_BYTES = 100_000 * 1024;

export const bulkSchema = z.object({ action: z.string().min(1), ids: z.array(z.string()).min(1, 'ids are required') }).loose();

export function registerClientRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  const base = () => ctx.publicUrl();
  const out = (c: ClientRow) => clientOut(ctx.store, c, base());
  const find = (id: string) => {
    const c = ctx.store.client(id);
    if (!c) throw notFound('Client');
    return c;
  };

  app.get('/api/v1/clients', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    let rows = ctx.store.clients();
    if (q.number) rows = rows.filter((c) => c.number === q.number);
    if (q.id_number) rows = rows.filter((c) => c.id_number === q.id_number);
    if (q.client_id) rows = rows.filter((c) => c.id === q.client_id);
    if (q.email) {
      const email = q.email.toLowerCase();
      rows = rows.filter((c) => c.contacts.some((ct) => ct.text.email.toLowerCase() === email));
    }
    if (q.name) rows = rows.filter((c) => c.text.name.toLowerCase().includes(q.name!.toLowerCase()));
    if (q.filter) {
      const f = q.filter.toLowerCase();
      rows = rows.filter((c) =>
        [c.text.name, c.id_number, c.number, c.text.custom_value1, c.text.custom_value2, c.text.custom_value3, c.text.custom_value4,
          ...c.contacts.flatMap((ct) => [ct.text.first_name, ct.text.last_name, ct.text.email])]
          .some((v) => v.toLowerCase().includes(f)),
      );
    }
    return paginate(req, commonFilters(req, rows), out, base());
  });

  app.post('/api/v1/clients', async (req) => item(out(createClient(ctx, req.body))));
  app.get<{ Params: { id: string } }>('/api/v1/clients/:id', async (req) => item(out(find(req.params.id))));
  app.put<{ Params: { id: string } }>('/api/v1/clients/:id', async (req) => item(out(updateClient(ctx, find(req.params.id), req.body))));
  app.delete<{ Params: { id: string } }>('/api/v1/clients/:id', async (req) => item(out(bulkClients(ctx, 'delete', [find(req.params.id).id])[0])));
  app.post('/api/v1/clients/bulk', async (req) => {
    const body = parseBody(bulkSchema, req.body);
    return { data: bulkClients(ctx, body.action, body.ids).map(out) };
  });

  const upload = async (req: FastifyRequest<{ Params: { id: string } }>) => {
    const client = find(req.params.id);
    if (client.is_deleted) throw new ApiError(400, 'Record is deleted and cannot be edited. Restore the record to enable editing');
    if (!req.isMultipart()) throw invalid({ documents: ['The documents must be sent as multipart/form-data.'] });
    const files: Array<{ name: string; data: Buffer }> = [];
    let isPublic = true;
    for await (const part of req.parts({ limits: { fileSize: MAX_DOCUMENT_BYTES } })) {
      if (part.type === 'file') {
        if (part.fieldname !== 'documents[]' && part.fieldname !== 'documents' && part.fieldname !== 'file') {
          await part.toBuffer();
          continue;
        }
        files.push({ name: part.filename, data: await part.toBuffer() });
      } else if (part.fieldname === 'is_public') {
        isPublic = truthy(part.value);
      }
    }
    if (files.length === 0) throw invalid({ documents: ['The documents field is required.'] });
    const now = nowSeconds();
    files.forEach((f, i) => {
      const ext = (f.name.split('.').pop() ?? '').toLowerCase();
      if (!ALLOWED_EXTENSIONS.has(ext)) {
        throw invalid({ [`documents.${i}`]: [`The documents.${i} must be a file of type: ${[...ALLOWED_EXTENSIONS].join(', ')}.`] });
      }
    });
    for (const f of files) {
      const ext = (f.name.split('.').pop() ?? '').toLowerCase();
      client.documents.push({
        id: ctx.store.nextId('document'),
        name: f.name,
        type: ext,
        size: f.data.length,
        hash: sha1(f.data),
        is_public: isPublic,
        content_b64: f.data.toString('base64'),
        created_at: now,
        updated_at: now,
      });
    }
    client.updated_at = now;
    ctx.store.touch();
    ctx.hooks.fire(EVENT.UPDATE_CLIENT, 'client', client.id);
    return item(out(client));
  };
  app.post<{ Params: { id: string } }>('/api/v1/clients/:id/upload', upload);
  app.put<{ Params: { id: string } }>('/api/v1/clients/:id/upload', upload);

  app.get<{ Params: { id: string } }>('/api/v1/documents/:id/download', async (req, reply) => {
    for (const c of ctx.store.clients()) {
      const doc = c.documents.find((d) => d.id === req.params.id);
      if (doc) {
        return reply
          .type(doc.type === 'pdf' ? 'application/pdf' : 'application/octet-stream')
          .header('content-disposition', `attachment; filename="${doc.name.replace(/"/g, '')}"`)
          .send(Buffer.from(doc.content_b64, 'base64'));
      }
    }
    throw notFound('Document');
  });
}

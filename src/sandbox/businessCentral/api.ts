import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { BcError, badRequest, sendBcError } from './bcError';
import { companyJson, subscriptionJson } from './serialize';
import { companySets, customFinanceSets, reportsFinanceSets, type ParentRef, type ReqCtx, type SetDef } from './entitySets';
import type { Ctx } from './ledger';
import { applySelect, filterFields, parseQuery, preferredPageSize, sortRows, evaluate, type QueryOptions, type Row } from './odata';
import type { TokenIssuer } from './auth';
import type { Webhooks } from './webhooks';

// HTTP layer of the API subset: URL routing for OData paths (`companies({id})/set({id})/nav`, bound actions,
// media streams), bearer check, OData query options, ETags with If-Match, paging with @odata.nextLink.

export interface ApiOptions {
  tenantId: string;
  environment: string;
  pageSize: number;
  ctx: Ctx;
  touch(): void;
  auth: TokenIssuer;
  webhooks: Webhooks;
}

interface Segment {
  name: string;
  key?: string;
}

const ODATA_JSON = 'application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8';

function parseSegments(path: string): Segment[] {
  return path
    .split('/')
    .filter(Boolean)
    .map((raw) => {
      const seg = decodeURIComponent(raw);
      const m = /^([\w.]+)(?:\((.*)\))?$/.exec(seg);
      if (!m) throw new BcError(404, 'BadRequest_NotFound', `No HTTP resource was found that matches the request URI segment '${seg}'.`);
      const key = m[2]?.replace(/^'(.*)'$/, '$1').replace(/^id=/, '');
      return { name: m[1], key: key?.toLowerCase() };
    });
}

const noResource = (req: FastifyRequest) =>
  new BcError(404, 'BadRequest_NotFound', `No HTTP resource was found that matches the request URI '${req.url}'.`);

function checkIfMatch(req: FastifyRequest, current: Row, required: boolean) {
  const header = req.headers['if-match'];
  if (!header) {
    if (required) throw badRequest('Could not validate the client concurrency token required by the service. Please provide a valid token in the client request.');
    return;
  }
  if (header === '*' || header === current['@odata.etag']) return;
  throw new BcError(412, 'Request_EntityChanged', 'Another user has already changed the record.');
}

export function registerApi(app: FastifyInstance, o: ApiOptions): void {
  const handler = async (req: FastifyRequest<{ Params: { tenant?: string; env: string; '*': string } }>, reply: FastifyReply) => {
    const { tenant, env } = req.params;
    if ((tenant !== undefined && tenant.toLowerCase() !== o.tenantId.toLowerCase()) || env.toLowerCase() !== o.environment.toLowerCase())
      return sendBcError(reply, 404, 'BadRequest_NotFound', `The environment '${env}' does not exist for tenant '${tenant ?? ''}'.`);
    if (!o.auth.verify(req.headers.authorization)) {
      reply.header('www-authenticate', 'Bearer authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="invalid_token"');
      return sendBcError(reply, 401, 'Authentication_InvalidCredentials', 'The server has rejected the client credentials.');
    }
    const path = req.params['*'].split('?')[0];
    const segments = parseSegments(path);
    const [a, b, c] = segments.map((s) => s.name);
    if (a === 'v2.0') return v2(req, reply, segments.slice(1));
    if (a === 'microsoft' && b === 'reportsFinance' && c === 'beta') return companyScoped(req, reply, segments.slice(3), reportsFinanceSets, true);
    if (a === 'arsync' && b === 'finance' && c === 'v1.0') return companyScoped(req, reply, segments.slice(3), customFinanceSets, true);
    throw noResource(req);
  };
  app.all('/v2.0/:tenant/:env/api/*', handler);
  app.all('/v2.0/:env/api/*', handler);

  async function v2(req: FastifyRequest, reply: FastifyReply, segs: Segment[]) {
    if (segs[0]?.name === 'subscriptions') return subscriptions(req, reply, segs);
    return companyScoped(req, reply, segs, companySets, false);
  }

  function reqCtx(companyId: string): ReqCtx {
    const company = o.ctx.state.companies.find((x) => x.id === companyId.toLowerCase());
    if (!company) throw new BcError(404, 'BadRequest_NotFound', `The company ${companyId} does not exist.`);
    return { state: o.ctx.state, emit: o.ctx.emit, company, touch: o.touch };
  }

  async function companyScoped(req: FastifyRequest, reply: FastifyReply, segs: Segment[], sets: Record<string, SetDef>, readOnly: boolean) {
    if (segs[0]?.name !== 'companies') throw noResource(req);
    const query = parseQuery(req.query as Record<string, unknown>);
    if (segs.length === 1) {
      if (req.method !== 'GET') throw noResource(req);
      return sendCollection(req, reply, o.ctx.state.companies.map(companyJson), query, 'company', undefined);
    }
    if (!segs[0].key) throw noResource(req);
    const c = reqCtx(segs[0].key);
    if (segs.length === 1) {
      if (req.method !== 'GET' || readOnly) throw noResource(req);
      const row = companyJson(c.company);
      return reply.header('content-type', ODATA_JSON).send(applySelect(row, query.select, []));
    }
    const rest = segs.slice(1);
    let parent: ParentRef | undefined;
    let set: SetDef | undefined;
    let setName = '';
    for (let i = 0; i < rest.length; i++) {
      const seg = rest[i];
      if (seg.name.startsWith('Microsoft.NAV.')) {
        const action = seg.name.slice('Microsoft.NAV.'.length);
        const fn = set?.actions?.[action];
        if (!fn || !parent || i !== rest.length - 1 || req.method !== 'POST' || readOnly) throw noResource(req);
        findRow(c, set!, parent, setName);
        fn(c, parent.id);
        return reply.code(204).send();
      }
      if (set && parent && set.media?.[seg.name] && i === rest.length - 1) {
        if (req.method !== 'GET') throw noResource(req);
        findRow(c, set, parent, setName);
        const media = set.media[seg.name](c, parent.id);
        return reply.header('content-type', media.contentType).send(media.data);
      }
      const nextName = set ? set.navs?.[seg.name] : sets[seg.name] ? seg.name : undefined;
      if (!nextName) throw noResource(req);
      if (set && parent) findRow(c, set, parent, setName);
      const childParent = parent;
      set = sets[nextName];
      setName = nextName;
      const last = i === rest.length - 1;
      if (seg.key === undefined) {
        if (!last) throw noResource(req);
        if (req.method === 'GET') {
          checkFilterable(set, query);
          const rows = set.rows(c, childParent, query.filter);
          return sendCollection(req, reply, expandRows(c, set, rows, query), query, set.entityType, set.unfilterable);
        }
        if (req.method === 'POST' && set.create && !readOnly) {
          const row = set.create(c, req.body, childParent);
          return reply.code(201).header('content-type', ODATA_JSON).header('etag', row['@odata.etag']).send(row);
        }
        throw noResource(req);
      }
      parent = { set: nextName, id: seg.key };
      if (last) return entity(req, reply, c, set, parent, query, readOnly, childParent);
    }
    throw noResource(req);
  }

  function findRow(c: ReqCtx, set: SetDef, ref: ParentRef, setName: string, within?: ParentRef): Row {
    if (!/^[0-9a-f-]{36}$/.test(ref.id)) throw new BcError(400, 'BadRequest', `The key value '${ref.id}' is not a valid GUID.`);
    const row = set.rows(c, within, parseQuery({ $filter: `id eq ${ref.id}` }).filter).find((r) => String(r.id).toLowerCase() === ref.id.toLowerCase());
    if (!row) throw new BcError(404, 'BadRequest_NotFound', `The ${set.entityType} (${setName}) with id ${ref.id} does not exist.`);
    return row;
  }

  async function entity(req: FastifyRequest, reply: FastifyReply, c: ReqCtx, set: SetDef, ref: ParentRef, query: QueryOptions, readOnly: boolean, within?: ParentRef) {
    const current = findRow(c, set, ref, ref.set, within);
    if (req.method === 'GET') {
      const [row] = expandRows(c, set, [current], query);
      return reply.header('content-type', ODATA_JSON).header('etag', row['@odata.etag']).send(applySelect(row, query.select, [...query.expand.keys()]));
    }
    if (req.method === 'PATCH' && set.patch && !readOnly) {
      checkIfMatch(req, current, true);
      const row = set.patch(c, ref.id, req.body);
      return reply.header('content-type', ODATA_JSON).header('etag', row['@odata.etag']).send(row);
    }
    if (req.method === 'DELETE' && set.remove && !readOnly) {
      checkIfMatch(req, current, false);
      set.remove(c, ref.id);
      return reply.code(204).send();
    }
    throw noResource(req);
  }

  function expandRows(c: ReqCtx, set: SetDef, rows: Row[], query: QueryOptions): Row[] {
    if (query.expand.size === 0) return rows;
    return rows.map((row) => {
      const out: Row = { ...row };
      for (const [nav, opts] of query.expand) {
        const ref = set.refs?.[nav];
        if (ref) {
          const target = ref(c, row);
          out[nav] = target && applySelect(target, opts.select, []);
          continue;
        }
        const childName = set.navs?.[nav];
        if (!childName) throw badRequest(`Could not find a property named '${nav}' on type 'Microsoft.NAV.${set.entityType}'.`);
        const child = companySets[childName];
        out[nav] = child.rows(c, { set: childName, id: String(row.id) }, undefined).map((r) => applySelect(r, opts.select, []));
      }
      return out;
    });
  }

  function checkFilterable(set: SetDef, query: QueryOptions) {
    if (!query.filter || !set.unfilterable) return;
    for (const f of filterFields(query.filter))
      if (set.unfilterable.includes(f)) throw badRequest(`The field '${f}' is not a table field of 'Microsoft.NAV.${set.entityType}' and cannot be used in $filter.`);
  }

  function sendCollection(req: FastifyRequest, reply: FastifyReply, rows: Row[], query: QueryOptions, entityType: string, _unfilterable?: string[]) {
    let result = query.filter ? rows.filter((r) => evaluate(query.filter!, r, entityType)) : rows;
    result = sortRows(result, query.orderBy);
    if (query.top !== undefined) result = result.slice(0, query.top);
    const pageSize = Math.max(1, Math.min(o.pageSize, preferredPageSize(req.headers.prefer) ?? o.pageSize));
    const offset = query.skipToken ?? 0;
    const page = result.slice(offset, offset + pageSize).map((r) => applySelect(r, query.select, [...query.expand.keys()]));
    const body: Record<string, unknown> = { '@odata.context': `${baseUrl(req)}/$metadata#${entityType}`, value: page };
    if (offset + pageSize < result.length) {
      // Keep the caller's query as sent (like BC's nextLink) and replace only the skip token.
      const [path, search = ''] = req.url.split('?');
      const kept = search.split('&').filter((p) => p && !/^(\$|%24)skiptoken=/i.test(p));
      body['@odata.nextLink'] = `${baseUrl(req)}${path}?${[...kept, `$skiptoken=${offset + pageSize}`].join('&')}`;
    }
    if (reply.getHeader('preference-applied') === undefined && preferredPageSize(req.headers.prefer))
      reply.header('preference-applied', `odata.maxpagesize=${pageSize}`);
    return reply.header('content-type', ODATA_JSON).send(body);
  }

  function baseUrl(req: FastifyRequest): string {
    return `${req.protocol}://${req.headers.host ?? 'localhost'}`;
  }

  // ---- subscriptions (API root)
  const subscriptionBody = z
    .object({
      notificationUrl: z.url().max(250),
      resource: z.string().min(1).max(250),
      clientState: z.string().max(250).optional(),
    })
    .strict();
  const subscriptionPatch = subscriptionBody.partial().extend({ '@odata.etag': z.string().optional() }).strict();

  function parseSub<T>(schema: z.ZodType<T>, body: unknown): T {
    const r = schema.safeParse(body ?? {});
    if (r.success) return r.data;
    const issue = r.error.issues[0];
    throw badRequest(
      issue.code === 'unrecognized_keys'
        ? `The property '${issue.keys[0]}' does not exist on type 'Microsoft.NAV.subscription'.`
        : `Invalid value for property '${issue.path.join('.')}': ${issue.message}.`,
    );
  }

  async function subscriptions(req: FastifyRequest, reply: FastifyReply, segs: Segment[]) {
    if (segs.length > 2) throw noResource(req);
    const companyExists = (id: string) => o.ctx.state.companies.some((x) => x.id === id);
    const key = segs[0].key;
    if (key === undefined) {
      if (req.method === 'GET')
        return sendCollection(req, reply, o.webhooks.list().map(subscriptionJson), parseQuery(req.query as Record<string, unknown>), 'subscription');
      if (req.method === 'POST') {
        const sub = await o.webhooks.create(parseSub(subscriptionBody, req.body), companyExists);
        const row = subscriptionJson(sub);
        return reply.code(201).header('content-type', ODATA_JSON).header('etag', row['@odata.etag']).send(row);
      }
      throw noResource(req);
    }
    const sub = o.webhooks.get(key);
    const current = subscriptionJson(sub);
    if (req.method === 'GET') return reply.header('content-type', ODATA_JSON).header('etag', current['@odata.etag']).send(current);
    if (req.method === 'PATCH') {
      checkIfMatch(req, current, true);
      const patch = parseSub(subscriptionPatch, req.body);
      const row = subscriptionJson(await o.webhooks.renew(sub, patch, companyExists));
      return reply.header('content-type', ODATA_JSON).header('etag', row['@odata.etag']).send(row);
    }
    if (req.method === 'DELETE') {
      checkIfMatch(req, current, false);
      o.webhooks.delete(key);
      return reply.code(204).send();
    }
    throw noResource(req);
  }
}

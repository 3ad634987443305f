import { badRequest } from './bcError';

// The OData v4 query subset the sandbox understands, applied to already-serialized entities:
// $filter (eq ne gt ge lt le, and/or, parentheses; string, number, boolean, null, GUID, date and datetime literals),
// $orderby, $top, $select, $expand (comma list, nested options ignored except $select), and server-driven paging
// with @odata.nextLink / $skiptoken.

export type Row = Record<string, unknown>;

type Literal =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }
  | { kind: 'datetime'; value: number }
  | { kind: 'date'; value: string }
  | { kind: 'guid'; value: string };

type Op = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
export type FilterNode =
  | { type: 'cmp'; field: string; op: Op; literal: Literal }
  | { type: 'and' | 'or'; left: FilterNode; right: FilterNode };

const OPS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '(' || ch === ')') {
      tokens.push(ch);
      i++;
    } else if (ch === "'") {
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= text.length) throw badRequest(`Syntax error: unterminated string literal in $filter "${text}".`);
        if (text[j] === "'") {
          if (text[j + 1] === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += text[j++];
      }
      tokens.push(`'${value}`); // marker: leading quote = string literal
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s()]/.test(text[j])) j++;
      tokens.push(text.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

function parseLiteral(token: string | undefined, text: string): Literal {
  if (token === undefined) throw badRequest(`Syntax error: missing value in $filter "${text}".`);
  if (token.startsWith("'")) return { kind: 'string', value: token.slice(1) };
  if (token === 'true' || token === 'false') return { kind: 'boolean', value: token === 'true' };
  if (token === 'null') return { kind: 'null' };
  if (/^-?\d+(\.\d+)?$/.test(token)) return { kind: 'number', value: Number(token) };
  if (/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/.test(token)) return { kind: 'datetime', value: Date.parse(token) };
  if (/^\d{4}-\d{2}-\d{2}$/.test(token)) return { kind: 'date', value: token };
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(token)) return { kind: 'guid', value: token.toLowerCase() };
  throw badRequest(`Syntax error at '${token}' in $filter "${text}".`);
}

export function parseFilter(text: string): FilterNode {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const next = () => tokens[pos++];

  function primary(): FilterNode {
    if (peek() === '(') {
      next();
      const inner = orExpr();
      if (next() !== ')') throw badRequest(`Syntax error: ')' expected in $filter "${text}".`);
      return inner;
    }
    const field = next();
    if (!field || field.startsWith("'") || !/^[A-Za-z_][\w]*$/.test(field)) throw badRequest(`Syntax error at '${field ?? ''}' in $filter "${text}".`);
    const op = next();
    if (!op || !OPS.has(op)) throw badRequest(`Syntax error: the operator '${op ?? ''}' is not supported in $filter "${text}".`);
    return { type: 'cmp', field, op: op as Op, literal: parseLiteral(next(), text) };
  }
  function andExpr(): FilterNode {
    let left = primary();
    while (peek() === 'and') {
      next();
      left = { type: 'and', left, right: primary() };
    }
    return left;
  }
  function orExpr(): FilterNode {
    let left = andExpr();
    while (peek() === 'or') {
      next();
      left = { type: 'or', left, right: andExpr() };
    }
    return left;
  }
  const tree = orExpr();
  if (pos !== tokens.length) throw badRequest(`Syntax error at '${tokens[pos]}' in $filter "${text}".`);
  return tree;
}

export function filterFields(node: FilterNode): string[] {
  return node.type === 'cmp' ? [node.field] : [...filterFields(node.left), ...filterFields(node.right)];
}

/** The value compared for a `field eq 'x'` filter, e.g. the journalId a lines collection requires. */
export function equalityValue(node: FilterNode | undefined, field: string): string | undefined {
  if (!node) return undefined;
  if (node.type === 'cmp') {
    if (node.field !== field || node.op !== 'eq') return undefined;
    const l = node.literal;
    return l.kind === 'string' || l.kind === 'guid' || l.kind === 'date' ? l.value : undefined;
  }
  if (node.type === 'and') return equalityValue(node.left, field) ?? equalityValue(node.right, field);
  return undefined;
}

/**
 * Every value a row's `field` may have for the filter to hold, when the filter pins it (`field eq a`, `field eq a or
 * field eq b`, either within an `and`); undefined when it does not. Lets a set skip rows before serializing them.
 */
export function equalityValues(node: FilterNode | undefined, field: string): string[] | undefined {
  if (!node) return undefined;
  if (node.type === 'cmp') {
    const one = equalityValue(node, field);
    return one === undefined ? undefined : [one];
  }
  const left = equalityValues(node.left, field);
  const right = equalityValues(node.right, field);
  if (node.type === 'and') return left ?? right;
  return left && right ? [...left, ...right] : undefined;
}

const decodeEnum = (s: string) => s.replace(/_x0020_/g, ' ').replace(/_x002F_/g, '/');

function compare(a: number | string, b: number | string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function test(op: Op, c: number): boolean {
  switch (op) {
    case 'eq':
      return c === 0;
    case 'ne':
      return c !== 0;
    case 'gt':
      return c > 0;
    case 'ge':
      return c >= 0;
    case 'lt':
      return c < 0;
    case 'le':
      return c <= 0;
  }
}

export function evaluate(node: FilterNode, row: Row, entityType: string): boolean {
  if (node.type !== 'cmp')
    return node.type === 'and'
      ? evaluate(node.left, row, entityType) && evaluate(node.right, row, entityType)
      : evaluate(node.left, row, entityType) || evaluate(node.right, row, entityType);
  if (!(node.field in row)) throw badRequest(`Could not find a property named '${node.field}' on type 'Microsoft.NAV.${entityType}'.`);
  const v = row[node.field];
  const l = node.literal;
  switch (l.kind) {
    case 'null':
      return test(node.op, v === null || v === '' ? 0 : 1);
    case 'boolean':
      return test(node.op, v === l.value ? 0 : 1);
    case 'number':
      return typeof v === 'number' && test(node.op, compare(v, l.value));
    case 'datetime': {
      const t = typeof v === 'string' ? Date.parse(v) : NaN;
      return !Number.isNaN(t) && test(node.op, compare(t, l.value));
    }
    case 'date':
    case 'guid':
      return typeof v === 'string' && test(node.op, compare(v.toLowerCase().slice(0, l.kind === 'date' ? 10 : undefined), l.value));
    case 'string':
      return typeof v === 'string' && test(node.op, compare(decodeEnum(v), decodeEnum(l.value)));
  }
}

export interface QueryOptions {
  filter?: FilterNode;
  select?: string[];
  expand: Map<string, { select?: string[] }>;
  top?: number;
  skipToken?: number;
  orderBy?: { field: string; desc: boolean }[];
}

/** Splits on commas that are not inside parentheses ("a,b($select=x,y)" -> ["a", "b($select=x,y)"]). */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) parts.push(cur.trim());
  return parts;
}

export function parseQuery(q: Record<string, unknown>): QueryOptions {
  const str = (k: string) => (typeof q[k] === 'string' ? (q[k] as string) : undefined);
  const opts: QueryOptions = { expand: new Map() };
  const filter = str('$filter');
  if (filter) opts.filter = parseFilter(filter);
  const select = str('$select');
  if (select) opts.select = select.split(',').map((s) => s.trim()).filter(Boolean);
  const expand = str('$expand');
  if (expand) {
    for (const part of splitTopLevel(expand)) {
      const m = /^(\w+)(?:\((.*)\))?$/.exec(part);
      if (!m) throw badRequest(`Syntax error in $expand "${expand}".`);
      const nested = m[2] ? /\$select=([\w,]+)/.exec(m[2]) : null;
      opts.expand.set(m[1], { select: nested ? nested[1].split(',') : undefined });
    }
  }
  const top = str('$top');
  if (top !== undefined) {
    if (!/^\d+$/.test(top)) throw badRequest(`Invalid value for $top: "${top}".`);
    opts.top = Number(top);
  }
  const skip = str('$skiptoken');
  if (skip !== undefined) {
    if (!/^\d+$/.test(skip)) throw badRequest(`Invalid $skiptoken "${skip}".`);
    opts.skipToken = Number(skip);
  }
  const orderBy = str('$orderby');
  if (orderBy)
    opts.orderBy = orderBy.split(',').map((p) => {
      const [field, dir] = p.trim().split(/\s+/);
      return { field, desc: dir === 'desc' };
    });
  return opts;
}

export function applySelect(row: Row, select: string[] | undefined, keep: string[]): Row {
  if (!select) return row;
  const out: Row = {};
  for (const k of ['@odata.etag', ...select, ...keep]) if (k in row) out[k] = row[k];
  return out;
}

export function sortRows(rows: Row[], orderBy: QueryOptions['orderBy']): Row[] {
  if (!orderBy) return rows;
  return [...rows].sort((a, b) => {
    for (const { field, desc } of orderBy) {
      const c = compare(a[field] as string | number, b[field] as string | number);
      if (c !== 0) return desc ? -c : c;
    }
    return 0;
  });
}

/** Reads `Prefer: odata.maxpagesize=N`. */
export function preferredPageSize(header: string | string[] | undefined): number | undefined {
  const text = Array.isArray(header) ? header.join(',') : header;
  const m = text ? /odata\.maxpagesize=(\d+)/.exec(text) : null;
  return m ? Number(m[1]) : undefined;
}

import type { InPayment } from '../src/adapters/invoiceNinja';
import type { CursorPart } from './intakeTypes';

// The portal watcher's cursor over rows read by `updated_at >= since`. Invoice Ninja's updated_at has whole seconds, so
// what was handed on at the newest second is remembered, by id, updated_at and a version of what matters in the row:
// a row changed again within the same second (a view, a void, a refund) is handed on again.

/** Advances a cursor over rows seen at `updated_at >= since`: the rows not handed on yet, and the next cursor. */
export function advance<R extends { id: string; updatedAt: number }>(
  part: CursorPart,
  rows: R[],
  version: (r: R) => string = () => '',
): { next: CursorPart; fresh: R[] } {
  const key = (r: R) => `${r.id}@${r.updatedAt}${version(r) ? `@${version(r)}` : ''}`;
  const seen = new Set(part.seen);
  const fresh = rows.filter((r) => r.updatedAt > part.since || (r.updatedAt === part.since && !seen.has(key(r))));
  const since = Math.max(part.since, ...rows.map((r) => r.updatedAt));
  const atSince = rows.filter((r) => r.updatedAt === since).map(key);
  return { next: { since, seen: since === part.since ? [...new Set([...part.seen, ...atSince])] : atSince }, fresh };
}

/** What a payment's workflow acts on: status, amounts, deletion and the invoices it is applied to. */
export function paymentVersion(p: InPayment): string {
  const invoices = p.invoices.map((i) => `${i.invoiceId}:${i.amount.minor}:${i.refunded.minor}`).join(',');
  return [p.statusId, p.amount.minor, p.applied.minor, p.refunded.minor, p.isDeleted ? 'deleted' : '', invoices].join('|');
}

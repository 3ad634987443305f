/**
 * A poll cursor: Invoice Ninja filters by `updated_at` in whole seconds, so we read `>= since` and remember which
 * rows at that second were already handed on (by id, updated_at and a version: activities/pollCursor.ts).
 */
export interface CursorPart {
  since: number;
  seen: string[];
}

export interface PortalCursor {
  invoices: CursorPart;
  payments: CursorPart;
}

export interface PollResult {
  cursor: PortalCursor;
  paymentsSignalled: number;
  viewsSignalled: number;
}

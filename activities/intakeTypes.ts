/**
 * A poll cursor: Invoice Ninja filters by `updated_at` in whole seconds, so we read `>= since` and remember which
 * (id, updated_at) pairs at that second were already handed on.
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

/**
 * The window sync of payments made in the ERP (seed 001): which start date an option means, and the "date paid" rule.
 *
 * Start of the window, given `now` (passed in: workflow code never reads the clock) and a UTC offset for "today":
 *   last_successful_run  the exact instant of the last successful run (an error if there was none: pick a date instead)
 *   past_week            today − 7 days, from midnight
 *   past_two_weeks       today − 14 days, from midnight
 *   past_month           the same day last month, from midnight; a day the month lacks is clamped to its last day
 *                        (Mar 31 -> Feb 28, or Feb 29 in a leap year; May 31 -> Apr 30)
 *   custom               the given date (YYYY-MM-DD, not after today), from midnight
 * Everything updated on or after the start, up to now, is synced. Rerunning any window changes nothing already right.
 *
 * Date paid: only when the invoice is paid in full (ERP remaining amount zero); it is the date of the application that
 * brought the paid amount up to the total for the last time (applications that were later unapplied do not count).
 */

export type WindowOption =
  | { kind: 'last_successful_run'; lastRunMs: number | null }
  | { kind: 'past_week' }
  | { kind: 'past_two_weeks' }
  | { kind: 'past_month' }
  | { kind: 'custom'; date: string };

export interface SyncWindow {
  startMs: number;
  /** Local calendar date of the start (YYYY-MM-DD). */
  startDate: string;
  endMs: number;
}

export interface WindowOpts {
  /** Offset of the company's local time from UTC, in minutes (e.g. -300 for UTC−5). Default 0. */
  utcOffsetMinutes?: number;
}

const DAY_MS = 86_400_000;

export class SyncWindowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SyncWindowError';
  }
}

/** The problem with an option, or null; for validators that must not throw. */
export function checkWindowOption(option: WindowOption, nowMs: number, opts: WindowOpts = {}): string | null {
  try {
    windowStart(option, nowMs, opts);
    return null;
  } catch (e) {
    if (e instanceof SyncWindowError) return e.message;
    throw e;
  }
}

export function windowStart(option: WindowOption, nowMs: number, opts: WindowOpts = {}): SyncWindow {
  if (!Number.isFinite(nowMs)) throw new SyncWindowError(`now must be a timestamp, got ${nowMs}`);
  const offsetMs = (opts.utcOffsetMinutes ?? 0) * 60_000;
  const today = localDate(nowMs, offsetMs);
  const fromDate = (d: CivilDate): SyncWindow => ({ startMs: civilToMs(d) - offsetMs, startDate: formatDate(d), endMs: nowMs });

  switch (option.kind) {
    case 'last_successful_run': {
      if (option.lastRunMs === null) {
        throw new SyncWindowError('there is no successful run yet: choose a window or a date (a date far in the past is safe)');
      }
      if (!Number.isFinite(option.lastRunMs) || option.lastRunMs > nowMs) {
        throw new SyncWindowError('the last successful run is in the future');
      }
      return { startMs: option.lastRunMs, startDate: formatDate(localDate(option.lastRunMs, offsetMs)), endMs: nowMs };
    }
    case 'past_week':
      return fromDate(addDays(today, -7));
    case 'past_two_weeks':
      return fromDate(addDays(today, -14));
    case 'past_month':
      return fromDate(sameDayLastMonth(today));
    case 'custom': {
      const d = parseDate(option.date);
      if (civilToMs(d) > civilToMs(today)) throw new SyncWindowError(`custom date ${option.date} is after today (${formatDate(today)})`);
      return fromDate(d);
    }
    default: {
      const never: never = option;
      throw new SyncWindowError(`unknown window option ${JSON.stringify(never)}`);
    }
  }
}

export interface CivilDate {
  year: number;
  month: number; // 1..12
  day: number;
}

export function parseDate(text: string): CivilDate {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) throw new SyncWindowError(`date must be YYYY-MM-DD, got "${text}"`);
  const d = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  if (d.month < 1 || d.month > 12 || d.day < 1 || d.day > daysInMonth(d.year, d.month)) {
    throw new SyncWindowError(`no such date: ${text}`);
  }
  return d;
}

export function formatDate(d: CivilDate): string {
  return `${String(d.year).padStart(4, '0')}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
}

export function sameDayLastMonth(d: CivilDate): CivilDate {
  const year = d.month === 1 ? d.year - 1 : d.year;
  const month = d.month === 1 ? 12 : d.month - 1;
  return { year, month, day: Math.min(d.day, daysInMonth(year, month)) };
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function addDays(d: CivilDate, days: number): CivilDate {
  return localDate(civilToMs(d) + days * DAY_MS, 0);
}

function civilToMs(d: CivilDate): number {
  return Date.UTC(d.year, d.month - 1, d.day);
}

function localDate(ms: number, offsetMs: number): CivilDate {
  const t = new Date(ms + offsetMs);
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}

// ---- Date paid ----

export interface PaymentApplication {
  /** YYYY-MM-DD */
  date: string;
  /** Positive: applied to the invoice; negative: unapplied. */
  amountMinor: number;
}

export interface InvoicePaymentInfo {
  /** Total paid so far (total − ERP remaining). */
  paidAmountMinor: number;
  /** Only when paid in full. */
  datePaid: string | null;
}

export function invoicePaymentInfo(args: {
  totalMinor: number;
  remainingMinor: number;
  applications: readonly PaymentApplication[];
  /** The date the ERP closed the invoice, when known; used when the listed applications do not reach the total. */
  closedDate?: string | null;
}): InvoicePaymentInfo {
  const paidAmountMinor = args.totalMinor - args.remainingMinor;
  return { paidAmountMinor, datePaid: paidInFullDate(args) };
}

export function paidInFullDate(args: {
  totalMinor: number;
  remainingMinor: number;
  applications: readonly PaymentApplication[];
  closedDate?: string | null;
}): string | null {
  if (args.remainingMinor !== 0 || args.totalMinor <= 0) return null;
  // Stable sort by date keeps the ledger's order within a day.
  const ordered = args.applications.map((a, i) => ({ a, i })).sort((x, y) => (x.a.date < y.a.date ? -1 : x.a.date > y.a.date ? 1 : x.i - y.i));
  let cumulative = 0;
  let reached: string | null = null;
  for (const { a } of ordered) {
    parseDate(a.date);
    const before = cumulative;
    cumulative += a.amountMinor;
    if (cumulative >= args.totalMinor && before < args.totalMinor) reached = a.date;
    if (cumulative < args.totalMinor) reached = null;
  }
  return reached ?? args.closedDate ?? null;
}

import {
  SyncWindowError,
  checkWindowOption,
  daysInMonth,
  invoicePaymentInfo,
  paidInFullDate,
  parseDate,
  sameDayLastMonth,
  windowStart,
} from '../../src/domain/syncWindow';

const at = (iso: string) => Date.parse(iso);

describe('windowStart', () => {
  const now = at('2024-04-10T15:30:00Z');

  it('past week and past two weeks start at midnight 7 and 14 days back', () => {
    expect(windowStart({ kind: 'past_week' }, now)).toEqual({ startMs: at('2024-04-03T00:00:00Z'), startDate: '2024-04-03', endMs: now });
    expect(windowStart({ kind: 'past_two_weeks' }, now).startDate).toBe('2024-03-27');
  });

  it('past week crosses a leap-year February', () => {
    expect(windowStart({ kind: 'past_week' }, at('2024-03-05T08:00:00Z')).startDate).toBe('2024-02-27');
    expect(windowStart({ kind: 'past_two_weeks' }, at('2024-03-01T08:00:00Z')).startDate).toBe('2024-02-16');
  });

  it('past month is the same day last month (the seed: April 10 -> March 10)', () => {
    expect(windowStart({ kind: 'past_month' }, now)).toEqual({ startMs: at('2024-03-10T00:00:00Z'), startDate: '2024-03-10', endMs: now });
  });

  it.each([
    ['2024-03-31', '2024-02-29'],
    ['2024-03-30', '2024-02-29'],
    ['2024-03-29', '2024-02-29'],
    ['2024-03-28', '2024-02-28'],
    ['2023-03-31', '2023-02-28'],
    ['2100-03-31', '2100-02-28'],
    ['2000-03-31', '2000-02-29'],
    ['2024-05-31', '2024-04-30'],
    ['2024-07-31', '2024-06-30'],
    ['2024-08-31', '2024-07-31'],
    ['2024-01-31', '2023-12-31'],
    ['2024-01-01', '2023-12-01'],
    ['2024-12-31', '2024-11-30'],
  ])('past month on %s starts %s', (today, start) => {
    expect(windowStart({ kind: 'past_month' }, at(`${today}T12:00:00Z`)).startDate).toBe(start);
  });

  it('takes "today" in the company time zone', () => {
    // 02:00 UTC on April 10 is still April 9 at UTC-5: the window starts at local midnight of April 2.
    const w = windowStart({ kind: 'past_week' }, at('2024-04-10T02:00:00Z'), { utcOffsetMinutes: -300 });
    expect(w).toMatchObject({ startDate: '2024-04-02', startMs: at('2024-04-02T05:00:00Z') });
    expect(windowStart({ kind: 'past_month' }, at('2024-03-31T23:30:00Z'), { utcOffsetMinutes: 60 }).startDate).toBe('2024-03-01');
  });

  it('last successful run starts at that exact instant', () => {
    const last = at('2024-04-09T22:17:05Z');
    expect(windowStart({ kind: 'last_successful_run', lastRunMs: last }, now)).toEqual({ startMs: last, startDate: '2024-04-09', endMs: now });
  });

  it('refuses last successful run when there was none, or one in the future', () => {
    expect(() => windowStart({ kind: 'last_successful_run', lastRunMs: null }, now)).toThrow(SyncWindowError);
    expect(checkWindowOption({ kind: 'last_successful_run', lastRunMs: null }, now)).toMatch(/no successful run yet/);
    expect(checkWindowOption({ kind: 'last_successful_run', lastRunMs: now + 1 }, now)).toMatch(/in the future/);
  });

  it('custom dates start at midnight, up to today included', () => {
    expect(windowStart({ kind: 'custom', date: '2020-01-15' }, now).startMs).toBe(at('2020-01-15T00:00:00Z'));
    expect(windowStart({ kind: 'custom', date: '2024-04-10' }, now).startDate).toBe('2024-04-10');
    expect(checkWindowOption({ kind: 'custom', date: '2024-04-11' }, now)).toBe('custom date 2024-04-11 is after today (2024-04-10)');
  });

  it.each(['2023-02-29', '2024-13-01', '2024-04-31', '24-04-01', '2024-4-1', 'yesterday'])('rejects the custom date %s', (date) => {
    expect(checkWindowOption({ kind: 'custom', date }, now)).not.toBeNull();
  });

  it('accepts every valid option', () => {
    for (const kind of ['past_week', 'past_two_weeks', 'past_month'] as const) expect(checkWindowOption({ kind }, now)).toBeNull();
  });
});

describe('calendar helpers', () => {
  it('knows month lengths and leap years', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((m) => daysInMonth(2023, m))).toEqual([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]);
    expect(daysInMonth(2024, 2)).toBe(29);
    expect(daysInMonth(1900, 2)).toBe(28);
    expect(sameDayLastMonth(parseDate('2024-03-31'))).toEqual({ year: 2024, month: 2, day: 29 });
  });
});

describe('date paid', () => {
  const total = 10000;

  it('is empty while the invoice is not paid in full', () => {
    const info = invoicePaymentInfo({ totalMinor: total, remainingMinor: 4000, applications: [{ date: '2024-03-01', amountMinor: 6000 }] });
    expect(info).toEqual({ paidAmountMinor: 6000, datePaid: null });
  });

  it('is the date of the application that completed the payment', () => {
    const apps = [
      { date: '2024-03-12', amountMinor: 4000 },
      { date: '2024-03-01', amountMinor: 6000 },
    ];
    expect(invoicePaymentInfo({ totalMinor: total, remainingMinor: 0, applications: apps })).toEqual({
      paidAmountMinor: 10000,
      datePaid: '2024-03-12',
    });
  });

  it('ignores a full payment that was later unapplied and paid again', () => {
    const apps = [
      { date: '2024-03-01', amountMinor: 10000 },
      { date: '2024-03-05', amountMinor: -10000 },
      { date: '2024-03-20', amountMinor: 10000 },
    ];
    expect(paidInFullDate({ totalMinor: total, remainingMinor: 0, applications: apps })).toBe('2024-03-20');
  });

  it('keeps the ledger order within a day', () => {
    const apps = [
      { date: '2024-03-05', amountMinor: 10000 },
      { date: '2024-03-05', amountMinor: -10000 },
      { date: '2024-03-05', amountMinor: 10000 },
      { date: '2024-03-01', amountMinor: 0 },
    ];
    expect(paidInFullDate({ totalMinor: total, remainingMinor: 0, applications: apps })).toBe('2024-03-05');
  });

  it('falls back to the close date when the listed applications do not reach the total (e.g. a credit memo)', () => {
    const apps = [{ date: '2024-03-01', amountMinor: 2000 }];
    expect(paidInFullDate({ totalMinor: total, remainingMinor: 0, applications: apps, closedDate: '2024-03-09' })).toBe('2024-03-09');
    expect(paidInFullDate({ totalMinor: total, remainingMinor: 0, applications: apps })).toBeNull();
  });

  it('rejects malformed application dates', () => {
    expect(() => paidInFullDate({ totalMinor: total, remainingMinor: 0, applications: [{ date: '03/01/2024', amountMinor: 10000 }] })).toThrow(
      SyncWindowError,
    );
  });
});

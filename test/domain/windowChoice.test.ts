import { SyncWindowError } from '../../src/domain/syncWindow';
import { resolveWindow, windowChoiceProblem } from '../../src/domain/windowChoice';

const at = (iso: string) => Date.parse(iso);

describe('window sync start dates, for each option', () => {
  const now = at('2024-04-10T15:30:00Z');

  it('past week and past two weeks start at midnight 7 and 14 days back', () => {
    expect(new Date(resolveWindow({ kind: 'past_week' }, now).startMs).toISOString()).toBe('2024-04-03T00:00:00.000Z');
    expect(resolveWindow({ kind: 'past_two_weeks' }, now).startDate).toBe('2024-03-27');
  });

  it('past month is the same day last month (the seed: April 10 -> March 10), clamped at month ends', () => {
    expect(resolveWindow({ kind: 'past_month' }, now).startDate).toBe('2024-03-10');
    expect(resolveWindow({ kind: 'past_month' }, at('2024-03-31T08:00:00Z')).startDate).toBe('2024-02-29');
    expect(resolveWindow({ kind: 'past_month' }, at('2023-03-31T08:00:00Z')).startDate).toBe('2023-02-28');
    expect(resolveWindow({ kind: 'past_month' }, at('2024-05-31T08:00:00Z')).startDate).toBe('2024-04-30');
    expect(resolveWindow({ kind: 'past_month' }, at('2024-01-15T08:00:00Z')).startDate).toBe('2023-12-15');
  });

  it('a custom date starts at its midnight, and may not be after today', () => {
    const w = resolveWindow({ kind: 'custom', date: '2024-01-31' }, now);
    expect(new Date(w.startMs).toISOString()).toBe('2024-01-31T00:00:00.000Z');
    expect(w.endMs).toBe(now);
    expect(() => resolveWindow({ kind: 'custom', date: '2024-04-11' }, now)).toThrow(SyncWindowError);
    expect(windowChoiceProblem({ kind: 'custom', date: '2024-02-30' }, now)).toMatch(/no such date/);
    expect(windowChoiceProblem({ kind: 'custom', date: '2024-04-10' }, now)).toBeNull();
  });

  it('last successful run starts at that instant, or falls back when there was none and a fallback is given', () => {
    const last = at('2024-04-09T22:15:00Z');
    expect(resolveWindow({ kind: 'last_successful_run' }, now, { lastRunMs: last })).toMatchObject({ startMs: last, kind: 'last_successful_run', fellBack: false });
    expect(() => resolveWindow({ kind: 'last_successful_run' }, now, { lastRunMs: null })).toThrow(/no successful run yet/);
    expect(resolveWindow({ kind: 'last_successful_run' }, now, { lastRunMs: null, fallback: { kind: 'past_month' } })).toMatchObject({
      startDate: '2024-03-10',
      kind: 'past_month',
      fellBack: true,
    });
  });

  it('takes today in the company time zone', () => {
    // 01:00 UTC on May 1 is still April 30 in UTC−5: the past month starts March 30.
    expect(resolveWindow({ kind: 'past_month' }, at('2024-05-01T01:00:00Z'), { utcOffsetMinutes: -300 }).startDate).toBe('2024-03-30');
  });
});

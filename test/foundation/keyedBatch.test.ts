import { keyedBatch } from '../../src/adapters/http/keyedBatch';
import { RequestLimiter, urgently } from '../../src/adapters/http/limiter';

// Lookups by key that are asked for while one of their kind waits for the limiter go out with it; each caller gets
// the rows of exactly its keys; a lookup never joins a request already sent.

interface Row {
  key: string;
  value: number;
}

/** A lookup of rows by key behind a limiter with one slot; `sent` records each request's keys as it goes out. */
function lookupBehind(limiter: RequestLimiter, table: Record<string, number[]>, maxKeys = 20) {
  const sent: string[][] = [];
  let fail: Error | null = null;
  const lookup = keyedBatch<Row>({
    maxKeys,
    read: (take) =>
      limiter.run(async () => {
        const keys = take();
        sent.push(keys);
        await new Promise((r) => setImmediate(r));
        if (fail) throw fail;
        return keys.flatMap((key) => (table[key] ?? []).map((value) => ({ key, value })));
      }),
    keyOf: (r) => r.key,
  });
  return { lookup, sent, failWith: (err: Error | null) => (fail = err) };
}

/** Holds the limiter's only slot until released. */
async function hold(limiter: RequestLimiter): Promise<() => void> {
  let release!: () => void;
  void limiter.run(() => new Promise<void>((r) => (release = r)));
  await new Promise((r) => setImmediate(r));
  return release;
}

const table = { a: [1], b: [2, 3], c: [], d: [4], e: [5] };

describe('keyedBatch', () => {
  it('sends a lookup at once when nothing waits, and gathers the ones asked for while a request waits for its slot', async () => {
    const limiter = new RequestLimiter({ maxConcurrent: 1, ratePerInterval: 1000, intervalMs: 60_000 });
    const { lookup, sent } = lookupBehind(limiter, table);
    expect(await lookup(['a'])).toEqual([{ key: 'a', value: 1 }]);
    expect(sent).toEqual([['a']]);

    const release = await hold(limiter);
    const answers = Promise.all([lookup(['a', 'b']), lookup(['b']), lookup(['c', 'd'])]);
    await new Promise((r) => setImmediate(r));
    expect(sent).toHaveLength(1); // all three still wait for the slot
    release();
    expect(await answers).toEqual([[{ key: 'a', value: 1 }, { key: 'b', value: 2 }, { key: 'b', value: 3 }], [{ key: 'b', value: 2 }, { key: 'b', value: 3 }], [{ key: 'd', value: 4 }]]);
    expect(sent).toEqual([['a'], ['a', 'b', 'c', 'd']]);
  });

  it('with gatherMs, waits that long for company before asking for its turn, even when nothing queues', async () => {
    const limiter = new RequestLimiter({ maxConcurrent: 4, ratePerInterval: 1000, intervalMs: 60_000 });
    const sent: string[][] = [];
    const lookup = keyedBatch<Row>({
      maxKeys: 3,
      gatherMs: 40,
      read: (take) =>
        limiter.run(async () => {
          const keys = take();
          sent.push(keys);
          return keys.flatMap((key) => (table[key as keyof typeof table] ?? []).map((value) => ({ key, value })));
        }),
      keyOf: (r) => r.key,
    });
    const later = (ms: number, keys: string[]) => new Promise<void>((r) => setTimeout(r, ms)).then(() => lookup(keys));
    const answers = Promise.all([lookup(['a']), later(5, ['b']), later(10, ['d', 'e'])]);
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toEqual([]); // the first batch still gathers
    expect(await answers).toEqual([[{ key: 'a', value: 1 }], [{ key: 'b', value: 2 }, { key: 'b', value: 3 }], [{ key: 'd', value: 4 }, { key: 'e', value: 5 }]]);
    // 'd' and 'e' did not both fit (three keys at most): they started a batch of their own, which gathered too.
    expect(sent).toEqual([['a', 'b'], ['d', 'e']]);
  });

  it('with gatherMs, sends a batch at once when it fills up, or when one lookup fills it', async () => {
    const sent: string[][] = [];
    const lookup = keyedBatch<Row>({
      maxKeys: 3,
      gatherMs: 10_000,
      read: async (take) => {
        const keys = take();
        sent.push(keys);
        return keys.flatMap((key) => (table[key as keyof typeof table] ?? []).map((value) => ({ key, value })));
      },
      keyOf: (r) => r.key,
    });
    const started = Date.now();
    const first = lookup(['a']);
    await new Promise((r) => setTimeout(r, 5));
    expect(sent).toEqual([]); // still gathering
    expect(await Promise.all([first, lookup(['b', 'd'])])).toEqual([[{ key: 'a', value: 1 }], [{ key: 'b', value: 2 }, { key: 'b', value: 3 }, { key: 'd', value: 4 }]]);
    expect(await lookup(['a', 'd', 'e'])).toEqual([{ key: 'a', value: 1 }, { key: 'd', value: 4 }, { key: 'e', value: 5 }]);
    expect(sent).toEqual([['a', 'b', 'd'], ['a', 'd', 'e']]);
    // Neither waited out the 10 s gathering.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('starts a new request for lookups asked after one went out', async () => {
    const limiter = new RequestLimiter({ maxConcurrent: 2, ratePerInterval: 1000, intervalMs: 60_000 });
    const { lookup, sent } = lookupBehind(limiter, table);
    const first = lookup(['a']);
    await new Promise((r) => setImmediate(r)); // the first is on its way: its answer may predate the next question
    const second = lookup(['a']);
    expect(await Promise.all([first, second])).toEqual([[{ key: 'a', value: 1 }], [{ key: 'a', value: 1 }]]);
    expect(sent).toEqual([['a'], ['a']]);
  });

  it('caps the keys per request and splits a long lookup', async () => {
    const limiter = new RequestLimiter({ maxConcurrent: 1, ratePerInterval: 1000, intervalMs: 60_000 });
    const { lookup, sent } = lookupBehind(limiter, table, 2);
    const release = await hold(limiter);
    const answers = Promise.all([lookup(['a', 'b', 'd']), lookup(['e'])]);
    release();
    expect((await answers).map((rows) => rows.map((r) => r.value))).toEqual([[1, 2, 3, 4], [5]]);
    expect(sent).toEqual([['a', 'b'], ['d', 'e']]);
  });

  it('keeps urgent lookups apart from ordinary ones', async () => {
    const limiter = new RequestLimiter({ maxConcurrent: 1, ratePerInterval: 1000, intervalMs: 60_000 });
    const { lookup, sent } = lookupBehind(limiter, table);
    const release = await hold(limiter);
    const ordinary = lookup(['a']);
    const urgent = urgently(() => lookup(['d']));
    release();
    await Promise.all([ordinary, urgent]);
    // The urgent one went first, alone.
    expect(sent).toEqual([['d'], ['a']]);
  });

  it('fails every lookup of a failed request, and the next lookup sends a new one', async () => {
    const limiter = new RequestLimiter({ maxConcurrent: 1, ratePerInterval: 1000, intervalMs: 60_000 });
    const { lookup, sent, failWith } = lookupBehind(limiter, table);
    const release = await hold(limiter);
    failWith(new Error('HTTP 503'));
    const both = [lookup(['a']), lookup(['b'])];
    release();
    for (const p of both) await expect(p).rejects.toThrow('HTTP 503');
    failWith(null);
    expect(await lookup(['b'])).toHaveLength(2);
    expect(sent).toEqual([['a', 'b'], ['b']]);
  });
});

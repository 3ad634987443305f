import { ahead, RequestLimiter } from '../../src/adapters/http/limiter';

// The client-side quota: requests in flight are capped, and requests made inside ahead() are served before the ones
// already waiting outside it (a journal posting must not wait behind a flood of reads for the same quota).

/** A request that stays in flight until released, recording when it started. */
function gate(started: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  const run = (): Promise<void> => {
    started.push(name);
    return done;
  };
  return { run, release: () => release() };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('RequestLimiter', () => {
  it('keeps at most maxConcurrent requests in flight and starts the next when one ends', async () => {
    const limiter = new RequestLimiter({ maxConcurrent: 2, ratePerInterval: 1000, intervalMs: 60_000 });
    const started: string[] = [];
    const gates = ['a', 'b', 'c'].map((n) => gate(started, n));
    const runs = gates.map((g) => limiter.run(g.run));
    await tick();
    expect(started).toEqual(['a', 'b']);
    gates[0]!.release();
    await tick();
    expect(started).toEqual(['a', 'b', 'c']);
    gates.forEach((g) => g.release());
    await Promise.all(runs);
  });

  it('serves requests made inside ahead() before those that were waiting first, in their own order', async () => {
    const limiter = new RequestLimiter({ maxConcurrent: 1, ratePerInterval: 1000, intervalMs: 60_000 });
    const started: string[] = [];
    const busy = gate(started, 'busy');
    const running = limiter.run(busy.run);
    const waiting = ['read-1', 'read-2'].map((n) => limiter.run(async () => void started.push(n)));
    // The lane survives awaits: the urgent requests are made after one.
    const urgent = ahead(async () => {
      await tick();
      await Promise.all(['post-1', 'post-2'].map((n) => limiter.run(async () => void started.push(n))));
    });
    await tick();
    await tick();
    busy.release();
    await Promise.all([running, urgent, ...waiting]);
    expect(started).toEqual(['busy', 'post-1', 'post-2', 'read-1', 'read-2']);
  });

  it('outside ahead() the order is first come, first served', async () => {
    const limiter = new RequestLimiter({ maxConcurrent: 1, ratePerInterval: 1000, intervalMs: 60_000 });
    const started: string[] = [];
    const busy = gate(started, 'busy');
    const running = limiter.run(busy.run);
    const rest = ['x', 'y', 'z'].map((n) => limiter.run(async () => void started.push(n)));
    busy.release();
    await Promise.all([running, ...rest]);
    expect(started).toEqual(['busy', 'x', 'y', 'z']);
  });
});

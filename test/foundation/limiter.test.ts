import { RequestLimiter, urgently } from '../../src/adapters/http/limiter';

// The client-side quota: requests in flight are capped, and waiting requests are served in the order they came (urgent
// ones first).

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

  it('serves urgent requests ahead of those already waiting, and those in order', async () => {
    const limiter = new RequestLimiter({ maxConcurrent: 1, ratePerInterval: 1000, intervalMs: 60_000 });
    const started: string[] = [];
    const busy = gate(started, 'busy');
    const running = limiter.run(busy.run);
    const reads = ['r1', 'r2'].map((n) => limiter.run(async () => void started.push(n)));
    const posts = urgently(async () => {
      await tick(); // requests made after an await inside the urgent work are urgent too
      await Promise.all(['post1', 'post2'].map((n) => limiter.run(async () => void started.push(n))));
    });
    const late = limiter.run(async () => void started.push('r3'));
    await tick();
    await tick();
    busy.release();
    await Promise.all([running, ...reads, posts, late]);
    expect(started).toEqual(['busy', 'post1', 'post2', 'r1', 'r2', 'r3']);
  });

  it('serves waiting requests first come, first served', async () => {
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

import { chunks } from '../chunks';
import { isUrgent } from './limiter';

// Lookups by key (ledger entries by external document number, invoices by number) asked for while one of the same
// kind still waits for its turn under the rate limit join it: the one request goes out with every key gathered by
// then. Under load, when requests queue behind the quota, a hundred payments' reads become a handful of OR-filter
// queries; when nothing queues, a lookup goes out at once, alone, as before. Every answer is read after its caller
// asked (a lookup joins only a request not yet sent), so none is older than one it could have sent itself. A batch
// may also wait a few milliseconds for company (`gatherMs`), for lookups that come in bursts without queueing.

export interface KeyedBatchOptions<V> {
  /** Keys one request may carry (the URL's length). */
  maxKeys: number;
  /**
   * Sends one request. `take` gives its keys: it is called once, when the request goes out (its limiter slot
   * granted), and closes the batch; lookups after that start a new one.
   */
  read: (take: () => string[]) => Promise<V[]>;
  /** The key a row answers (rows are handed to the lookups that asked for that exact key). */
  keyOf: (row: V) => string;
  /**
   * How long a new batch waits for company before it asks for its turn (default 0: at once), unless it fills up first.
   * For lookups where a few milliseconds do not matter and many come at once without queueing (a burst of invoice syncs).
   */
  gatherMs?: number;
}

interface Batch<V> {
  keys: Set<string>;
  taken: boolean;
  result: Promise<V[]>;
  /** Ends the gathering (the batch is full): nothing more can join, so it need not wait. */
  full: () => void;
}

/** Returns `lookup(keys)`: the rows for exactly these keys, from requests shared with lookups asked meanwhile. */
export function keyedBatch<V>(opts: KeyedBatchOptions<V>): (keys: readonly string[]) => Promise<V[]> {
  // One open batch per limiter lane: the journal poster's urgent reads never wait in a batch of ordinary ones.
  const open = new Map<'urgent' | 'normal', Batch<V>>();

  const join = (keys: string[]): Promise<V[]> => {
    const lane = isUrgent() ? 'urgent' : 'normal';
    let batch = open.get(lane);
    const fresh = batch ? keys.filter((k) => !batch!.keys.has(k)) : keys;
    if (!batch || batch.taken || batch.keys.size + fresh.length > opts.maxKeys) {
      const b: Batch<V> = { keys: new Set(keys), taken: false, result: Promise.resolve([]), full: () => undefined };
      open.set(lane, b);
      const read = () =>
        opts.read(() => {
          b.taken = true;
          if (open.get(lane) === b) open.delete(lane);
          return [...b.keys];
        });
      const gathered = opts.gatherMs
        ? new Promise<void>((done) => {
            const timer = setTimeout(done, opts.gatherMs);
            b.full = () => {
              clearTimeout(timer);
              done();
            };
          })
        : null;
      b.result = gathered ? gathered.then(read) : read();
      if (b.keys.size >= opts.maxKeys) b.full();
      // A request that failed before going out (a token error, say) must not gather more lookups.
      b.result.catch(() => undefined).then(() => {
        if (open.get(lane) === b) open.delete(lane);
      });
      batch = b;
    } else {
      for (const k of fresh) batch.keys.add(k);
      if (batch.keys.size >= opts.maxKeys) batch.full();
    }
    const wanted = new Set(keys);
    return batch.result.then((rows) => rows.filter((r) => wanted.has(opts.keyOf(r))));
  };

  return async (keys) => {
    return (await Promise.all(chunks([...new Set(keys)], opts.maxKeys).map(join))).flat();
  };
}

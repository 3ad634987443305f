// Identical reads asked for while one is in flight share it. Under a burst (a month-end posting run) many invoices of
// one customer ask for the same record at once; while the first read waits behind the rate limiter or is on the wire,
// the others join it instead of spending quota. Nothing is kept once the read settles, so no answer is older than one
// the caller could have got by asking at that moment.

export type SingleFlight<T> = (key: string, read: () => Promise<T>) => Promise<T>;

/** `copy` gives each joiner its own value, so no caller can change another's answer. */
export function singleFlight<T>(copy: (value: T) => T = structuredClone): SingleFlight<T> {
  const inFlight = new Map<string, Promise<T>>();
  return (key, read) => {
    const shared = inFlight.get(key);
    if (shared) return shared.then(copy);
    const p = read().finally(() => inFlight.delete(key));
    inFlight.set(key, p);
    return p;
  };
}

import { AsyncLocalStorage } from 'node:async_hooks';

// Client-side limits so we stay inside each service's published quotas: a cap on requests in flight and a
// token bucket for requests per interval. One limiter per connection (Business Central environment, Invoice Ninja URL).

const lane = new AsyncLocalStorage<'urgent'>();

/**
 * Runs `fn` with its requests ahead of the others waiting for the same limiter. For the work that finishes what is
 * queued (the journal poster's commit): when a backlog of reads has the quota, the postings they wait for go first.
 */
export function urgently<T>(fn: () => Promise<T>): Promise<T> {
  return lane.run('urgent', fn);
}

/** Whether the caller runs in the urgent lane (`urgently`). */
export function isUrgent(): boolean {
  return lane.getStore() === 'urgent';
}

export interface LimiterOptions {
  maxConcurrent: number;
  /** Requests allowed per `intervalMs`. */
  ratePerInterval: number;
  intervalMs: number;
}

export class RequestLimiter {
  private inFlight = 0;
  private tokens: number;
  private lastRefill = Date.now();
  private readonly waiting: Array<() => void> = [];
  private readonly urgent: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: LimiterOptions) {
    this.tokens = opts.ratePerInterval;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.inFlight--;
      this.drain();
    }
  }

  private acquire(): Promise<void> {
    return new Promise((resolve) => {
      (lane.getStore() === 'urgent' ? this.urgent : this.waiting).push(resolve);
      this.drain();
    });
  }

  private refill() {
    const now = Date.now();
    const elapsed = now - this.lastRefill;
    if (elapsed <= 0) return;
    const add = (elapsed / this.opts.intervalMs) * this.opts.ratePerInterval;
    this.tokens = Math.min(this.opts.ratePerInterval, this.tokens + add);
    this.lastRefill = now;
  }

  private drain() {
    this.refill();
    while (this.urgent.length + this.waiting.length > 0 && this.inFlight < this.opts.maxConcurrent && this.tokens >= 1) {
      this.tokens -= 1;
      this.inFlight++;
      (this.urgent.shift() ?? this.waiting.shift())!();
    }
    if (this.urgent.length + this.waiting.length > 0 && this.tokens < 1 && !this.timer) {
      const wait = Math.ceil(((1 - this.tokens) / this.opts.ratePerInterval) * this.opts.intervalMs);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.drain();
      }, wait);
      this.timer.unref();
    }
  }
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

// Failure injection for the sandboxes: a share of API requests answer 500, hang past the client's timeout, or come
// in 429 bursts with Retry-After. Set through each sandbox's admin route; off by default.
export interface FaultSettings {
  /** 0..1 share of requests answered 500. */
  errorRate: number;
  /** 0..1 share of requests that hang for `timeoutMs` before answering 504. */
  timeoutRate: number;
  timeoutMs: number;
  /** The next N requests answer 429 with Retry-After: `retryAfterSeconds`. */
  throttleNext: number;
  retryAfterSeconds: number;
  /** The next N requests answer 500 (deterministic, for tests) … */
  failNext: number;
  /** … counting only requests of this method ('PUT'), or any when empty. */
  failNextMethod: string;
}

export const NO_FAULTS: FaultSettings = {
  errorRate: 0,
  timeoutRate: 0,
  timeoutMs: 15000,
  throttleNext: 0,
  retryAfterSeconds: 1,
  failNext: 0,
  failNextMethod: '',
};

/** A change to the fault settings as each sandbox's admin route accepts it: any subset, nothing else. */
export const faultPatchSchema = z
  .object({
    errorRate: z.number().min(0).max(1),
    timeoutRate: z.number().min(0).max(1),
    timeoutMs: z.number().int().min(0).max(120_000),
    throttleNext: z.number().int().min(0),
    retryAfterSeconds: z.number().min(0),
    failNext: z.number().int().min(0),
    failNextMethod: z.string().regex(/^[A-Z]*$/, 'an HTTP method in capitals, or empty for any'),
  })
  .partial()
  .strict();

export class FaultInjector {
  settings: FaultSettings = { ...NO_FAULTS };

  configure(patch: Partial<FaultSettings>): FaultSettings {
    this.settings = { ...this.settings, ...patch };
    return this.settings;
  }

  /**
   * Installs an onRequest hook on the API routes selected by `applies`. `render` writes the service's own error body.
   */
  install(
    app: FastifyInstance,
    applies: (req: FastifyRequest) => boolean,
    render: (reply: FastifyReply, status: number, message: string) => FastifyReply,
  ): void {
    app.addHook('onRequest', async (req, reply) => {
      if (!applies(req)) return;
      const s = this.settings;
      if (s.throttleNext > 0) {
        s.throttleNext--;
        reply.header('Retry-After', String(s.retryAfterSeconds));
        return render(reply, 429, 'Too many requests (injected)');
      }
      if (s.failNext > 0 && (s.failNextMethod === '' || req.method === s.failNextMethod)) {
        s.failNext--;
        return render(reply, 500, 'Internal server error (injected)');
      }
      const roll = Math.random();
      if (roll < s.errorRate) return render(reply, 500, 'Internal server error (injected)');
      if (roll < s.errorRate + s.timeoutRate) {
        await new Promise((r) => setTimeout(r, s.timeoutMs));
        return render(reply, 504, 'Gateway timeout (injected)');
      }
    });
  }
}

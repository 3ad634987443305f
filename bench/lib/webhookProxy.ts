import http from 'node:http';
import type { AddressInfo } from 'node:net';

// Sits between the two systems' webhooks and our API (both are told to call it) and makes delivery worse, the way
// networks and at-least-once senders do: it holds deliveries for a random time (so they arrive out of order) and sends
// some of them again later (duplicates). The original's answer goes back to the sender, so Business Central's retries
// still work as they would; duplicates are fire-and-forget. The validation handshake passes straight through.

export interface ProxyChaos {
  /** Share of deliveries sent again (one or two extra copies). */
  duplicateRate: number;
  /** Share of originals held back before they are forwarded. */
  delayRate: number;
  /** Longest hold of an original, and the span over which copies are spread. */
  maxDelayMs: number;
}

export interface ProxyStats {
  received: number;
  delayed: number;
  duplicates: number;
  /** Non-2xx answers from our API (originals and copies)… */
  refused: number;
  /** … the first 20 of them: which endpoint, what status, and the start of the answer. */
  refusals: Array<{ path: string; status: number; answer: string }>;
  /** Transport failures reaching our API. */
  failed: number;
}

export interface WebhookProxy {
  url: string;
  stats: ProxyStats;
  chaos: ProxyChaos;
  setTarget(url: string): void;
  /** Waits for copies still scheduled, then stops. */
  close(): Promise<void>;
}

export async function startWebhookProxy(chaos: ProxyChaos, random: () => number): Promise<WebhookProxy> {
  let target = '';
  const stats: ProxyStats = { received: 0, delayed: 0, duplicates: 0, refused: 0, refusals: [], failed: 0 };
  const pending = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  const forward = async (method: string, path: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; type: string; body: Buffer }> => {
    try {
      const res = await fetch(`${target}${path}`, { method, headers, body: body.length ? body : undefined, signal: AbortSignal.timeout(30_000) });
      const out = Buffer.from(await res.arrayBuffer());
      if (res.status >= 300) {
        stats.refused++;
        if (stats.refusals.length < 20) stats.refusals.push({ path: path.split('?')[0]!, status: res.status, answer: out.toString('utf8', 0, 200) });
      }
      return { status: res.status, type: res.headers.get('content-type') ?? 'text/plain', body: out };
    } catch (err) {
      stats.failed++;
      return { status: 502, type: 'text/plain', body: Buffer.from(`proxy could not reach the API: ${(err as Error).message}`) };
    }
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = req.url ?? '/';
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k)) headers[k] = v;
      }
      const handshake = path.includes('validationToken=');
      if (!handshake) stats.received++;
      const run = async () => {
        if (!handshake && random() < chaos.delayRate) {
          stats.delayed++;
          await new Promise((r) => setTimeout(r, random() * chaos.maxDelayMs));
        }
        const answer = await forward(req.method ?? 'POST', path, headers, body);
        res.writeHead(answer.status, { 'content-type': answer.type }).end(answer.body);
        if (!handshake && random() < chaos.duplicateRate) {
          const copies = random() < 0.5 ? 1 : 2;
          for (let i = 0; i < copies; i++) {
            stats.duplicates++;
            const wait = random() * chaos.maxDelayMs * 2;
            track(new Promise<void>((r) => setTimeout(r, wait)).then(() => forward(req.method ?? 'POST', path, headers, body).then(() => undefined)));
          }
        }
      };
      track(run());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    chaos,
    setTarget(url) {
      target = url.replace(/\/$/, '');
    },
    async close() {
      while (pending.size) await Promise.allSettled([...pending]);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

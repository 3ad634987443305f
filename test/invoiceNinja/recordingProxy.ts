import http from 'node:http';
import type { AddressInfo } from 'node:net';

// A pass-through HTTP proxy that records every exchange byte for byte: what the client really put on the wire
// (headers, raw body, multipart included) and what the server really answered.

export interface RecordedExchange {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  status: number;
  responseBody: Buffer;
  responseType: string;
}

export async function startRecordingProxy(upstream: string) {
  const exchanges: RecordedExchange[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || k === 'host' || k === 'connection' || k === 'content-length') continue;
      headers[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    try {
      const answer = await fetch(upstream + req.url, {
        method: req.method,
        headers,
        body: body.length ? body : undefined,
        redirect: 'manual',
      });
      const responseBody = Buffer.from(await answer.arrayBuffer());
      const responseType = answer.headers.get('content-type') ?? '';
      exchanges.push({ method: req.method!, url: req.url!, headers: req.headers, body, status: answer.status, responseBody, responseType });
      const out: Record<string, string> = {};
      answer.headers.forEach((v, k) => {
        if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection' && k !== 'content-encoding') out[k] = v;
      });
      res.writeHead(answer.status, out).end(responseBody);
    } catch (err) {
      res.writeHead(502).end(String(err));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { freePort } from '../../src/stack/ports';
import type { TestStack } from './stack';

// The worker as a separate OS process (workers/main.ts, the production entrypoint), so a test can SIGKILL it halfway
// through an activity and start it again; and a proxy in front of the sandbox ERP that holds its journal post calls (or
// chosen reads), so a test can stop a worker between writing journal lines and posting them, or in the middle of a read.

const ROOT = path.resolve(__dirname, '../..');

export interface WorkerProcess {
  pid: number;
  /** Its Prometheus endpoint (`WORKER_METRICS_ADDRESS`). */
  metricsUrl: string;
  /** Everything the process wrote, for failure messages. */
  output(): string;
  /** SIGKILL: no shutdown, no activity completion; resolves when the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM: the graceful shutdown the worker does for operators. */
  stop(): Promise<void>;
}

/** The stack's environment for a worker process, with its settings file, task queue and sandbox URLs. */
export function workerEnv(s: TestStack, overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(s.config.env)) if (v !== undefined) env[k] = String(v);
  return { ...env, LOG_LEVEL: 'info', ...overrides };
}

/**
 * Starts `workers/main.ts` under Node with tsx's loader (`node --import tsx`: one process, so a signal reaches the
 * worker itself rather than a launcher) and resolves once it polls its task queue.
 */
export async function startWorkerProcess(env: NodeJS.ProcessEnv, timeoutMs = 30000): Promise<WorkerProcess> {
  const metrics = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
    cwd: ROOT,
    env: { ...env, WORKER_METRICS_ADDRESS: `127.0.0.1:${metrics}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker process did not start within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('worker started')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`worker process exited (${code ?? signal}) before it started:\n${out}`));
    });
  });
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return { pid: child.pid!, metricsUrl: `http://127.0.0.1:${metrics}/metrics`, output: () => out, kill: () => end('SIGKILL'), stop: () => end('SIGTERM') };
}

export interface HoldingProxy {
  url: string;
  /** Where requests go (settable after start, for a proxy made before its target). */
  target: string;
  /** Journal post calls wait this long before they are forwarded. */
  delayPostsMs: number;
  /** Journal post calls seen. */
  posts: number;
  /** Journal post calls (`…/Microsoft.NAV.post`) are held and never reach the ERP. */
  holdPosts: boolean;
  /** Journal post calls reach the ERP, but the answer is held and never reaches the caller. */
  swallowPostAnswers: boolean;
  /** GET requests whose decoded path and query match are held and never answered (null: none). */
  holdGets: RegExp | null;
  /** Post calls seen while holding or swallowing, and GET requests held. */
  held: number;
  close(): Promise<void>;
}

/** A plain HTTP proxy to `target` that can hold or delay journal post calls, or hold chosen reads (see HoldingProxy). */
export async function startHoldingProxy(target = ''): Promise<HoldingProxy> {
  const sockets = new Set<import('node:net').Socket>();
  const proxy: HoldingProxy = { url: '', target, delayPostsMs: 0, posts: 0, holdPosts: false, swallowPostAnswers: false, holdGets: null, held: 0, close: async () => undefined };
  const server = http.createServer(async (req, res) => {
    const isPost = req.method === 'POST' && (req.url ?? '').includes('/Microsoft.NAV.post');
    if (isPost) proxy.posts++;
    const heldGet = req.method === 'GET' && proxy.holdGets !== null && proxy.holdGets.test(decodeURIComponent(req.url ?? ''));
    if ((isPost && proxy.holdPosts) || heldGet) {
      proxy.held++;
      req.resume(); // never answered; the caller gives up or dies
      return;
    }
    if (isPost && proxy.delayPostsMs > 0) {
      proxy.held++;
      await new Promise((r) => setTimeout(r, proxy.delayPostsMs));
    }
    const upstream = new URL(proxy.target);
    const swallow = isPost && proxy.swallowPostAnswers;
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        if (swallow) {
          proxy.held++;
          answer.resume(); // the ERP did the work; the caller never hears of it
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return proxy;
}

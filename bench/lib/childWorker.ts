import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { freePort } from '../../src/stack/ports';
import { sleep } from './stats';

const ROOT = path.resolve(__dirname, '../..');
/** The production worker entrypoint. */
export const WORKER_MAIN = path.join(ROOT, 'workers/main.ts');

/**
 * A worker in a process of its own (`node --import tsx <entry>`, so the pid is the worker itself, not a wrapper): its
 * memory can be read alone and it can be SIGKILLed without taking the rest of the stack with it.
 */
export class ChildWorker {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  starts = 0;
  kills = 0;
  private stderrTail = '';

  constructor(
    private readonly client: Client,
    private readonly env: NodeJS.ProcessEnv,
    private readonly entry = WORKER_MAIN,
    /** Node options before the entry, e.g. `--cpu-prof` (not allowed in NODE_OPTIONS). */
    private readonly nodeArgs: readonly string[] = [],
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the worker and resolves once it polls its task queue. */
  async start(timeoutMs = 60_000): Promise<void> {
    const metricsPort = await freePort();
    const child = spawn(process.execPath, [...this.nodeArgs, '--import', 'tsx', this.entry], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...this.env, WORKER_METRICS_ADDRESS: `127.0.0.1:${metricsPort}` },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4000);
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.starts++;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`worker process exited during start-up (code ${child.exitCode}, signal ${child.signalCode}): ${this.stderrTail}`);
      if (await this.isPolling(child.pid!)) return;
      await sleep(200);
    }
    throw new Error(`worker process ${child.pid} did not poll ${this.env.TEMPORAL_TASK_QUEUE} within ${timeoutMs} ms: ${this.stderrTail}`);
  }

  /** Whether a worker with this pid polls the workflow task queue (SDK identity is "<pid>@<host>"). */
  private async isPolling(pid: number): Promise<boolean> {
    const res = await this.client.workflowService.describeTaskQueue({
      namespace: 'default',
      taskQueue: { name: this.env.TEMPORAL_TASK_QUEUE! },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    return (res.pollers ?? []).some((p) => p.identity?.startsWith(`${pid}@`));
  }

  /** SIGKILL: no shutdown, no grace; in-flight activities are abandoned mid-call. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    this.kills++;
    await this.exited;
  }

  /** Graceful stop (SIGTERM: the SDK drains in-flight work within its grace time). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** Resident set size of the worker process in bytes (Linux /proc). */
  rssBytes(): number | null {
    if (!this.running) return null;
    try {
      const status = fs.readFileSync(`/proc/${this.child!.pid}/status`, 'utf8');
      const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
      return kb ? Number(kb) * 1024 : null;
    } catch {
      return null;
    }
  }
}

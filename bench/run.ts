import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { buildWorkflowBundle } from '../src/worker/bundle';
import { durationMs } from '../src/config/duration';
import { envSchema } from '../src/config/env';
import { startOwnTemporal } from '../src/temporal/ownDevServer';
import { startBenchStack } from './lib/stack';
import type { BcLimits } from './lib/bcClient';
import { bootstrap, createCustomers, postInvoices } from './lib/scenario';
import { figure, table, type Figure } from './lib/report';
import { middleBy, waitFor } from './lib/stats';
import { throughput, type ThroughputResult } from './phases/throughput';
import { buildNoopBundle, ceiling, type CeilingResult, type CeilingWorker, type SyncShape } from './phases/ceiling';
import { cost } from './phases/cost';
import { disablePortalWebhooks, paymentLatency } from './phases/latency';
import { memory } from './phases/memory';
import { profiled } from './lib/profile';
import { onInterrupt } from './lib/cleanup';
import { arsyncWorkerProcess } from './lib/arsyncWorker';
import { ChildWorker } from './lib/childWorker';
import { optionsOrExit } from './lib/options';

// `npm run bench`: speed, cost and memory of arsync on an embedded stack of its own (README in this folder).

const PHASES = ['throughput', 'ceiling', 'cost', 'latency', 'memory'] as const;
/** The worker heap limit `npm start` gives the worker (WORKER_HEAP_MB's default). */
const PRODUCTION_HEAP_MB = envSchema.shape.WORKER_HEAP_MB.parse(undefined);
const posInt = z.coerce.number().int().positive();
/** Business Central's per-user quota (1,200 requests a minute), per second. */
const BC_QUOTA_PER_SECOND = 1200 / 60;
/** Hosted Invoice Ninja's API quota: 800 requests per minute. */
const PORTAL_QUOTA_PER_SECOND = 800 / 60;
/** The engine ceiling's worker process (`--worker process`). */
const NOOP_WORKER_MAIN = path.resolve(__dirname, 'lib/noopWorkerMain.ts');

const optionsSchema = z
  .object({
    invoices: posInt,
    rounds: posInt,
    warmup: z.coerce.number().int().min(0),
    customers: posInt,
    payments: posInt,
    paymentRate: z.coerce.number().positive(),
    pollInterval: z.string().regex(/^\d+(ms|s|m)$/, 'a duration like 500ms, 1s or 1m'),
    costInvoices: posInt,
    open: posInt,
    memoryWait: posInt,
    maxCachedWorkflows: z.coerce.number().int().min(0),
    workerHeapMb: z.coerce.number().int().min(0),
    ceilingStartConcurrency: posInt,
    bcQuota: z.boolean(),
    trigger: z.enum(['webhook', 'api']),
    worker: z.enum(['process', 'inline']),
    profile: z.string().min(1).optional(),
    workerProfile: z.string().min(1).optional(),
    phases: z
      .string()
      .transform((s) => s.split(',').map((p) => p.trim()).filter(Boolean))
      .pipe(z.array(z.enum(PHASES)).min(1)),
  })
  .strict()
  .refine((o) => !o.workerProfile || o.worker === 'process', { path: ['workerProfile'], message: 'profiles worker processes: needs --worker process' });

type Options = z.infer<typeof optionsSchema>;

function parseOptions(argv: string[]): Options {
  const program = new Command('bench')
    .description('arsync benchmarks on an embedded stack: sync throughput, engine ceiling, payment latency, cost per invoice, worker memory')
    .option('--invoices <n>', 'invoices posted at once for the throughput figure', '300')
    .option('--rounds <n>', 'throughput and ceiling alternately this many times; the figures are the median round', '5')
    .option('--warmup <n>', 'invoices synced before anything is timed', '20')
    .option('--customers <n>', 'ERP customers the invoices are spread over', '20')
    .option('--payments <n>', 'payments per latency path (webhook, poll-only)', '60')
    .option('--payment-rate <perSecond>', 'payment arrivals per second in the latency phases', '4')
    .option('--poll-interval <duration>', 'portal payment poller interval (the poll-only path waits for it)', '1s')
    .option('--cost-invoices <n>', 'invoices taken through the whole happy path for the cost figure', '3')
    .option('--open <n>', 'open invoice workflows waiting for payment for the memory figure (the target is stated for 10000)', '2000')
    .option('--memory-wait <seconds>', 'how long the memory phase waits for all of them to be waiting', '900')
    .option('--max-cached-workflows <n>', "the memory phase's worker with this workflow cache size (0: WORKER_MAX_CACHED_WORKFLOWS, as in production)", '0')
    .option('--worker-heap-mb <n>', "the memory phase's worker with this V8 old-space limit in MiB (default: WORKER_HEAP_MB's, as npm start runs it; 0: Node's default)", String(PRODUCTION_HEAP_MB))
    .option('--ceiling-start-concurrency <n>', 'concurrent starts of the engine-ceiling workflows', '16')
    .option('--trigger <how>', 'how the throughput invoices reach arsync: webhook (BC notification) or api (bulk start)', 'webhook')
    .option('--worker <where>', 'where the throughput and ceiling workers run: inline (in the bench process) or process (each in a process of its own, as npm start runs arsync; CPU per process)', 'inline')
    .option('--bc-quota', "keep the Business Central client's production limits (1,200 requests/min, 5 in flight)", false)
    .option('--profile <file>', "write a V8 CPU profile of the bench process over the throughput phase to this file")
    .option('--worker-profile <dir>', 'with --worker process: V8 CPU profiles of both worker processes, one file per thread, written to this folder when they exit')
    .option('--phases <list>', `comma-separated subset of ${PHASES.join(',')}`, PHASES.join(','));
  return optionsOrExit(program, optionsSchema, argv);
}

const log = (s: string) => process.stderr.write(`${s}\n`);

async function main() {
  const o = parseOptions(process.argv);
  const has = (p: (typeof PHASES)[number]) => o.phases.includes(p);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  // Lifted by default: the figure is then what the product and the engine do; --bc-quota shows Business Central's cap.
  const bcLimits: BcLimits | undefined = o.bcQuota ? undefined : { ratePerMinute: 1_000_000, maxConcurrent: 32 };
  const started = Date.now();
  log(`bench: ${os.cpus().length} cores (load average ${os.loadavg()[0].toFixed(1)} before start), node ${process.version}; Business Central client ${o.bcQuota ? 'at its production quota' : 'limits lifted'}`);

  const temporal = await startOwnTemporal();
  onInterrupt(() => temporal.stop());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-bench-bundle-'));
  const [bundlePath, noopCode] = await Promise.all([buildWorkflowBundle(path.join(dir, 'workflow-bundle.js')), buildNoopBundle()]);
  const stack = await startBenchStack({
    temporalAddress: temporal.address,
    bundlePath,
    bcLimits,
    settings: { polling: { paymentsInterval: o.pollInterval, viewsInterval: '1s' } },
  });
  const figures: Figure[] = [];
  const raw: Record<string, unknown> = {};
  // Worker processes still running when a phase fails are stopped with the stack, not left polling a stopped server.
  const children: ChildWorker[] = [];
  try {
    await bootstrap(stack);
    const customers = await createCustomers(stack, o.customers);
    log(`stack up (Temporal ${temporal.address}, API ${stack.apiUrl}); ${customers.length} customers opted in`);

    // The timed workers: in this process (the default, and the quicker on 2 cores: one Node process fewer), or each in a
    // process of its own (`--worker process`), as npm start runs arsync's worker apart from the API and the systems it
    // talks to: the CPU figures then say what the worker itself spent.
    const apart = o.worker === 'process';
    const profileArgs = o.workerProfile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(o.workerProfile)}`] : [];
    const syncPids: Record<string, number> = { temporal: temporal.pid };
    const ceilingPids: Record<string, number> = { temporal: temporal.pid };
    let arsyncWorker: ChildWorker | null = null;
    let noopWorker: ChildWorker | null = null;
    const noopQueue = `bench-noop-${process.pid}`;
    if (apart && has('throughput')) {
      await stack.stopWorker();
      const w = (arsyncWorker = arsyncWorkerProcess(stack, { bcLimits, heapMb: o.workerHeapMb, nodeArgs: profileArgs }));
      children.push(w);
      onInterrupt(() => w.kill());
      await w.start();
      syncPids.worker = w.pid!;
    }
    if (apart && has('ceiling')) {
      const bundle = path.join(dir, 'noop-bundle.js');
      fs.writeFileSync(bundle, noopCode);
      const w = (noopWorker = new ChildWorker(stack.client, { TEMPORAL_ADDRESS: temporal.address, TEMPORAL_TASK_QUEUE: noopQueue, BENCH_NOOP_BUNDLE: bundle }, NOOP_WORKER_MAIN, profileArgs));
      children.push(w);
      onInterrupt(() => w.kill());
      await w.start();
      ceilingPids.worker = w.pid!;
    }
    const ceilingWorker: CeilingWorker = apart ? { taskQueue: noopQueue } : { inProcess: { address: temporal.address, code: noopCode } };
    // The sync's shape in this revision (one local activity), until a throughput round reads it from the histories.
    let shape: SyncShape = { activities: 0, localActivities: 1 };

    if (o.warmup > 0) {
      const warm = await postInvoices(stack, o.warmup, customers);
      const q = `WorkflowType = 'invoiceLifecycle' AND Stage = 'link_sent'`;
      await waitFor(async () => (await stack.client.workflow.count(q)).count >= warm.length, 120_000, 'the warm-up invoices', 200);
      if (has('ceiling')) await ceiling(ceilingWorker, stack.client, o.warmup, shape, o.ceilingStartConcurrency, ceilingPids);
    }

    // Throughput and ceiling alternate for `--rounds` rounds, each ceiling right after its throughput on the same server:
    // the figures are the median round, so a slow moment of a shared machine does not decide a verdict.
    const synced: string[] = [];
    const rounds: Array<{ t?: ThroughputResult; c?: CeilingResult }> = [];
    for (let r = 1; r <= (has('throughput') || has('ceiling') ? o.rounds : 0); r++) {
      const round: { t?: ThroughputResult; c?: CeilingResult } = {};
      if (has('throughput')) {
        log(`throughput ${r}/${o.rounds}: ${o.invoices} invoices posted in the ERP at once, started by ${o.trigger}`);
        round.t = await profiled(r === 1 ? o.profile : undefined, () => throughput(stack, customers, o.invoices, o.trigger, syncPids));
        synced.push(...round.t.invoices);
        shape = round.t.shape;
      }
      if (has('ceiling')) {
        log(`ceiling ${r}/${o.rounds}: ${o.invoices} no-op workflows of ${shapeText(shape)}`);
        round.c = await ceiling(ceilingWorker, stack.client, o.invoices, shape, o.ceilingStartConcurrency, ceilingPids);
      }
      rounds.push(round);
    }
    await noopWorker?.stop();
    if (arsyncWorker) {
      // The later phases use the in-process worker again (the memory phase makes a worker process of its own).
      await arsyncWorker.stop();
      await stack.startWorker();
    }
    const spread = (xs: number[], digits: number) => `${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}`;
    const ofRounds = `median of ${rounds.length} round${rounds.length === 1 ? '' : 's'}`;
    if (has('throughput')) {
      const ts = rounds.map((r) => r.t!);
      raw.throughput = ts.map((t) => ({ ...t, invoices: t.invoices.length }));
      const t = middleBy(ts, (x) => x.perSecond);
      const quotaBound = BC_QUOTA_PER_SECOND / t.bcRequestsPerInvoice;
      figures.push(
        figure('sync_per_s', 'invoice sync throughput', t.perSecond, 'inv/s', '>= 50 inv/s', (v) => v >= 50, `${o.invoices} in ${t.seconds.toFixed(1)} s; ${ofRounds} (${spread(ts.map((x) => x.perSecond), 1)})`),
        figure('sync_link_sent_s', 'time to all at link_sent', t.linkSentSeconds, 's', '-', undefined, 'email and SMS sent'),
        figure('sync_start_delay_ms', 'ERP post → workflow started', t.startDelayMs.mean, 'ms', '-', undefined, `mean; max ${t.startDelayMs.max} ms (${o.trigger} path)`),
        Object.keys(t.activities).length
          ? figure('activity_wait_ms', 'activity wait for a worker', mean(Object.values(t.activities).map((a) => a.waitMs)), 'ms', '-', undefined, activitySummary(t.activities))
          : figure('activity_wait_ms', 'activity wait for a worker', null, 'ms', '-', undefined, 'none waited: the sync ran as a local activity'),
        figure('sync_cpu', 'CPU busy while syncing', cpuShare(t.cpu), '%', '-', undefined, `of ${os.cpus().length} cores; ${Object.entries(t.cpu.cpuSeconds).map(([k, v]) => `${k} ${v} s`).join(', ')} in ${t.cpu.wallSeconds} s`),
        figure('bc_requests_per_invoice', 'BC requests per invoice', t.bcRequestsPerInvoice, '', '-', undefined, `BC quota (1,200/min) allows ${quotaBound.toFixed(1)} inv/s`),
        figure('portal_requests_per_invoice', 'portal requests per invoice', t.portalRequestsPerInvoice, '', '-', undefined, `hosted IN's quota (800/min) allows ${(PORTAL_QUOTA_PER_SECOND / t.portalRequestsPerInvoice).toFixed(1)} inv/s`),
      );
    }
    if (has('ceiling')) {
      const cs = rounds.map((r) => r.c!);
      raw.ceiling = cs;
      const c = middleBy(cs, (x) => x.perSecond);
      figures.push(
        figure('ceiling_per_s', 'engine ceiling', c.perSecond, 'wf/s', '-', undefined, `${c.workflows} x ${shapeText(c.shape)}, no-op; ${ofRounds} (${spread(cs.map((x) => x.perSecond), 1)})`),
        figure('ceiling_cpu', 'CPU busy in the ceiling run', cpuShare(c.cpu), '%', '-', undefined, `of ${os.cpus().length} cores; ${Object.entries(c.cpu.cpuSeconds).map(([k, v]) => `${k} ${v} s`).join(', ')} in ${c.cpu.wallSeconds} s`),
      );
      if (has('throughput')) {
        // Each round's sync over the ceiling measured right after it.
        const ratios = rounds.map((r) => r.t!.perSecond / r.c!.perSecond);
        figures.push(figure('sync_vs_ceiling', 'sync / ceiling', middleBy(ratios, (x) => x), '', '>= 0.8', (v) => v >= 0.8, `${ofRounds} (${spread(ratios, 3)})`));
      }
    }

    if (has('cost')) {
      log(`cost: ${o.costInvoices} invoices through the happy path`);
      const c = await cost(stack, customers[0], o.costInvoices);
      raw.cost = c;
      const p = c.perInvoice;
      const split = `start ${p.starts.toFixed(1)}, act ${p.activities.toFixed(1)}, local act ${p.localActivities.toFixed(1)}, timer ${p.timers.toFixed(1)}, signal ${p.signals.toFixed(1)}, update ${p.updates.toFixed(1)}, upsert ${p.upserts.toFixed(1)}`;
      figures.push(
        figure('actions_per_invoice', 'actions per invoice (happy path)', p.actions, '', '<= 15', (v) => v <= 15, split),
        figure('payment_runs', 'runs per portal payment', c.paymentRuns.reduce((a, r) => a + r.startedBy.length, 0) / Math.max(1, c.paymentRuns.length), '', '-', undefined, `started by: ${[...new Set(c.paymentRuns.map((r) => r.startedBy.join('+')))].join(', ')}`),
        figure('events_per_invoice', 'history events per invoice', p.events, '', '-', undefined, Object.entries(c.byWorkflowType).map(([t, v]) => `${t} ${v.events.toFixed(1)} (${v.actions.toFixed(1)} actions)`).join(', ')),
      );
    }

    if (has('latency')) {
      const pool = synced.length >= 2 * o.payments ? synced : await syncMore(stack, customers, 2 * o.payments);
      log(`latency: ${o.payments} payments on the webhook path at ${o.paymentRate}/s`);
      // The ERP watcher's pass after the last posting (every erpLedgerInterval here) is counted with the payments.
      const settleMs = durationMs(stack.config.settings.polling.erpLedgerInterval) + 2000;
      const web = await paymentLatency(stack, pool.slice(0, o.payments), o.payments, o.paymentRate, 60_000, settleMs);
      await disablePortalWebhooks(stack);
      log(`latency: ${o.payments} payments on the poll-only path (poller every ${o.pollInterval})`);
      const poll = await paymentLatency(stack, pool.slice(o.payments), o.payments, o.paymentRate, 60_000 + 3 * durationMs(o.pollInterval), settleMs);
      raw.latency = { webhook: web, poll };
      const pollTarget = durationMs(o.pollInterval) + 1000;
      figures.push(
        figure('webhook_p50_ms', 'payment→posted p50, webhook', web.p50, 'ms', '-'),
        figure('webhook_p95_ms', 'payment→posted p95, webhook', web.p95, 'ms', '<= 1000 ms', (v) => v <= 1000 && web.missing === 0, web.missing ? `${web.missing} not posted` : `${web.samples} samples`),
        figure('webhook_p99_ms', 'payment→posted p99, webhook', web.p99, 'ms', '-'),
        figure('bc_requests_per_payment', 'BC requests per payment', web.bcRequestsPerPayment, '', '-', undefined, `webhook path, ${o.paymentRate}/s arriving (${poll.bcRequestsPerPayment.toFixed(1)} poll only); BC's quota covers ${(BC_QUOTA_PER_SECOND / web.bcRequestsPerPayment).toFixed(1)}/s at this cost (larger groups cost less each)`),
        figure('portal_requests_per_payment', 'portal requests per payment', web.portalRequestsPerPayment, '', '-', undefined, `webhook path (${poll.portalRequestsPerPayment.toFixed(1)} poll only), the pollers' own requests included; hosted IN's quota (800/min) covers ${(PORTAL_QUOTA_PER_SECOND / web.portalRequestsPerPayment).toFixed(1)}/s at this cost`),
        figure('poll_p50_ms', 'payment→posted p50, poll only', poll.p50, 'ms', '-'),
        figure('poll_p95_ms', 'payment→posted p95, poll only', poll.p95, 'ms', `<= ${pollTarget} ms`, (v) => v <= pollTarget && poll.missing === 0, `interval + 1 s; ${poll.samples} samples${poll.missing ? `, ${poll.missing} not posted` : ''}`),
        figure('poll_p99_ms', 'payment→posted p99, poll only', poll.p99, 'ms', '-'),
      );
    }

    if (has('memory')) {
      log(`memory: ${o.open} open invoice workflows waiting for payment, worker in its own process`);
      const m = await memory(stack, o.open, bcLimits, o.memoryWait * 1000, log, o.maxCachedWorkflows || undefined, o.workerHeapMb);
      raw.memory = m;
      const complete = m.waiting >= o.open;
      figures.push(
        figure('worker_rss_mib', `worker RSS, ${m.waiting} waiting`, m.rssMiB, 'MiB', '<= 512 MiB', (v) => v <= 512 && complete, complete ? `peak ${m.peakRssMiB} MiB` : `only ${m.waiting}/${o.open} reached waiting in ${m.seconds.toFixed(0)} s`),
        figure('memory_fill_s', 'time to open them', m.seconds, 's', '-', undefined, `${(m.waiting / m.seconds).toFixed(1)} inv/s, worker in its own process, ${o.workerHeapMb ? `heap limit ${o.workerHeapMb} MiB` : "Node's default heap"}${o.maxCachedWorkflows ? `, maxCachedWorkflows ${o.maxCachedWorkflows}` : ''}`),
      );
    }
  } finally {
    await Promise.all(children.map((w) => w.stop()));
    await stack.close().catch((err) => log(`closing the stack: ${String(err)}`));
    await temporal.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }

  process.stdout.write(`\n${table(figures)}\n\n`);
  const params = { ...o, cores: os.cpus().length, loadAverageAtEnd: Number(os.loadavg()[0].toFixed(2)), bcClientLimits: bcLimits ?? 'production', seconds: Math.round((Date.now() - started) / 1000) };
  process.stdout.write(`${JSON.stringify({ bench: 'arsync', params, figures, raw })}\n`);
}

const cpuShare = (c: { wallSeconds: number; cpuSeconds: Record<string, number | null> }) =>
  (100 * Object.values(c.cpuSeconds).reduce<number>((a, b) => a + (b ?? 0), 0)) / (c.wallSeconds * os.cpus().length);
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const shapeText = (s: SyncShape) =>
  [s.localActivities ? `${s.localActivities} local` : '', s.activities ? `${s.activities} regular` : ''].filter(Boolean).join(' + ') + ' activities';

const activitySummary = (a: Record<string, { waitMs: number; runMs: number }>) =>
  Object.entries(a)
    .map(([type, v]) => `${type} ${v.waitMs}+${v.runMs}`)
    .join(', ') + ' ms (wait+run)';

/** More synced invoices when the throughput phase was skipped or was smaller than the payments need. */
async function syncMore(stack: Awaited<ReturnType<typeof startBenchStack>>, customers: string[], n: number): Promise<string[]> {
  const q = `WorkflowType = 'invoiceLifecycle' AND Stage = 'link_sent'`;
  const before = (await stack.client.workflow.count(q)).count;
  const numbers = await postInvoices(stack, n, customers, { chunk: 250 });
  await waitFor(async () => (await stack.client.workflow.count(q)).count >= before + n, 300_000, `${n} more invoices at link_sent`, 250);
  return numbers;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

import { arsyncWorkerProcess } from '../lib/arsyncWorker';
import { onInterrupt } from '../lib/cleanup';
import type { BcLimits } from '../lib/bcClient';
import { bulkStart, countWorkflows, pauseBcNotifications, postInvoices } from '../lib/scenario';
import type { BenchStack } from '../lib/stack';
import { sleep } from '../lib/stats';

export interface MemoryResult {
  openWorkflows: number;
  /** Invoices that reached link_sent (waiting for payment) within the wait. */
  waiting: number;
  seconds: number;
  rssMiB: number | null;
  peakRssMiB: number | null;
}

const FILL_CHUNK = 250;

// Waiting for payment: link sent, possibly opened or partly paid already (earlier phases pay some invoices in part).
const WAITING = `WorkflowType = 'invoiceLifecycle' AND ExecutionStatus = 'Running' AND Stage IN ('link_sent', 'viewed', 'partially_paid')`;
const OPEN = `WorkflowType = 'invoiceLifecycle' AND ExecutionStatus = 'Running'`;

/**
 * Worker memory with `open` invoice workflows waiting for payment. The in-process worker hands over to a worker process
 * of its own (same factory, bundle and activities), so the resident set measured is the worker's alone. Invoices are
 * posted in the ERP and started by the operator's bulk API (the quicker door for thousands; the webhook path is timed
 * in the throughput phase).
 */
export async function memory(
  stack: BenchStack,
  open: number,
  bcLimits: BcLimits | undefined,
  waitMs: number,
  log: (s: string) => void,
  maxCachedWorkflows?: number,
  heapMb?: number,
): Promise<MemoryResult> {
  await stack.stopWorker();
  const worker = arsyncWorkerProcess(stack, { bcLimits, maxCachedWorkflows, heapMb });
  onInterrupt(() => worker.kill());
  await worker.start();
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, worker.rssBytes() ?? 0);
  }, 500);
  try {
    const already = await countWorkflows(stack.client, OPEN);
    const customers = stack.bc.admin.listCustomers().filter((c) => c.number.startsWith('B')).map((c) => c.number);
    const t0 = Date.now();
    const toPost = Math.max(0, open - already);
    await pauseBcNotifications(stack);
    // Chunks of FILL_CHUNK, each started once the one before is waiting: fewer invoices syncing at once than the
    // worker caches, so the fill is not slowed by evicting and replaying each other (the customer workflows above all).
    for (let posted = 0; posted < toPost; posted += FILL_CHUNK) {
      const n = Math.min(FILL_CHUNK, toPost - posted);
      await bulkStart(stack, await postInvoices(stack, n, customers));
      const target = already + posted + n;
      const chunkDeadline = Date.now() + 120_000;
      let waiting = 0;
      while ((waiting = await countWorkflows(stack.client, WAITING)) < target && Date.now() < chunkDeadline) await sleep(500);
      log(`  memory: ${posted + n}/${toPost} posted and started, ${waiting} waiting, worker RSS ${mib(worker.rssBytes())} MiB`);
    }
    let waiting = 0;
    const deadline = Date.now() + waitMs;
    let lastLog = 0;
    while (Date.now() < deadline) {
      waiting = await countWorkflows(stack.client, WAITING);
      if (waiting >= open) break;
      if (Date.now() - lastLog > 15_000) {
        log(`  memory: ${waiting}/${open} invoice workflows waiting for payment, worker RSS ${mib(worker.rssBytes())} MiB`);
        lastLog = Date.now();
      }
      await sleep(1000);
    }
    const seconds = (Date.now() - t0) / 1000;
    // Settle: let the worker finish what it was doing, then read its memory.
    await sleep(5000);
    const rss = worker.rssBytes();
    return { openWorkflows: await countWorkflows(stack.client, OPEN), waiting, seconds, rssMiB: mib(rss), peakRssMiB: mib(Math.max(peak, rss ?? 0)) };
  } finally {
    clearInterval(sampler);
    await worker.stop();
  }
}

function mib(bytes: number | null): number | null {
  return bytes === null ? null : Math.round((bytes / 1024 / 1024) * 10) / 10;
}

import type { InInvoice } from '../../src/adapters/invoiceNinja';
import { pay, portalInvoice, postedPayments } from '../lib/scenario';
import type { BenchStack } from '../lib/stack';
import { forEachLimit, percentile, sleep, waitFor } from '../lib/stats';

export interface LatencyResult {
  samples: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  /** Payments the ERP never showed within the wait. */
  missing: number;
  /**
   * Business Central requests per payment (BC's quota bounds them), from the first payment until `settleMs` after the
   * last was posted: the work a posting sets off (the invoice workflow's balance read, the ERP watcher's next pass)
   * belongs to its payment, not to whatever the bench measures next.
   */
  bcRequestsPerPayment: number;
  /** Invoice Ninja API requests per payment, counted over the same window. */
  portalRequestsPerPayment: number;
}

/**
 * Portal payment recorded → ERP posted, in milliseconds. Customers pay 1.00 by card on distinct invoices, arriving at
 * `ratePerSecond` (open loop: a slow system does not slow the arrivals). "Recorded" is when the pay page's confirm answer
 * arrives (the payment exists by then); "posted" is the posting time Business Central stamps on the payment's ledger
 * entry, found by the portal payment id as external document number.
 */
export async function paymentLatency(stack: BenchStack, invoiceNumbers: string[], count: number, ratePerSecond: number, waitMs: number, settleMs: number): Promise<LatencyResult> {
  const chosen = invoiceNumbers.slice(0, count);
  if (chosen.length < count) throw new Error(`only ${chosen.length} invoices to pay, ${count} wanted`);
  // Pay-page keys are read before the clock starts, so the measurement does not include them.
  const invoices: InInvoice[] = [];
  await forEachLimit(chosen, 8, async (n, i) => {
    invoices[i] = await portalInvoice(stack, n);
  });

  const recorded = new Map<string, number>();
  const bc0 = stack.requests.bc;
  const portal0 = stack.requests.portal;
  const t0 = Date.now();
  await Promise.all(
    invoices.map(async (inv, i) => {
      const due = t0 + (i * 1000) / ratePerSecond;
      if (due > Date.now()) await sleep(due - Date.now());
      const { paymentId } = await pay(stack, inv, '1.00');
      recorded.set(paymentId, Date.now());
    }),
  );
  const ids = [...recorded.keys()];
  let posted = postedPayments(stack);
  try {
    await waitFor(async () => {
      posted = postedPayments(stack);
      return ids.every((id) => posted.has(id));
    }, waitMs, `${ids.length} payments posted in the ERP`, 250);
  } catch {
    // Missing ones are reported as such.
  }
  await sleep(settleMs);
  const bcRequests = stack.requests.bc - bc0;
  const latencies = ids.filter((id) => posted.has(id)).map((id) => posted.get(id)!.postedAtMs - recorded.get(id)!);
  return {
    bcRequestsPerPayment: bcRequests / Math.max(1, ids.length),
    portalRequestsPerPayment: (stack.requests.portal - portal0) / Math.max(1, ids.length),
    samples: latencies.length,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies.length ? Math.max(...latencies) : null,
    missing: ids.length - latencies.length,
  };
}

/** Removes our webhook subscriptions from the portal: payments then reach arsync only through the poller. */
export async function disablePortalWebhooks(stack: BenchStack): Promise<number> {
  const portal = stack.deps.portals.client('default');
  const hooks = await portal.listWebhooks();
  for (const h of hooks) await portal.deleteWebhook(h.id);
  return hooks.length;
}

import axios from 'axios';
import type { Client } from '@temporalio/client';
import { formatDecimal, parseDecimal } from '../../src/domain/money';
import { setOptIn } from '../../src/operations/customers';
import { registerPortalWebhooks, startServiceWorkflows } from '../../src/operations/services';
import type { InInvoice } from '../../src/adapters/invoiceNinja';
import { payOnPortal } from '../../test/support/portalPay';
import type { BenchStack } from './stack';
import { renewNowSignal } from '../../workflows/bcSubscription';
import { bcSubscriptionWorkflowId } from '../../workflows/ids';
import { sleep, waitFor } from './stats';

// What the people around arsync do, driven through the same doors they use: ERP users post invoices (sandbox admin),
// customers open links and pay on the portal's pay page (plain form posts), operators opt customers in.

/** Portal webhooks registered, pollers and the BC subscription running, as `npm start` leaves them. */
export async function bootstrap(stack: BenchStack): Promise<void> {
  await registerPortalWebhooks(stack.ops, stack.deps.portals);
  await startServiceWorkflows(stack.ops, stack.deps.portals);
  await waitFor(async () => (await stack.deps.bc.listSubscriptions()).length > 0, 30_000, 'the Business Central subscription');
}

/** Creates `count` customers with an email address in the ERP and opts them in (each gets its portal client). */
export async function createCustomers(stack: BenchStack, count: number, prefix = 'B'): Promise<string[]> {
  const numbers: string[] = [];
  for (let i = 1; i <= count; i++) {
    const number = `${prefix}${String(i).padStart(5, '0')}`;
    stack.bc.admin.createCustomer({ number, displayName: `Bench Customer ${i}`, email: `payer${i}@bench.example`, paymentMethodCode: 'CARD' });
    numbers.push(number);
  }
  await setOptIn(stack.ops, numbers, { optedIn: true, by: 'bench' });
  return numbers;
}

/**
 * Posts invoices in the ERP, round-robin over the customers, `chunk` at a time: each chunk one sandbox transaction
 * (one state snapshot for the lot) and one BC notification.
 */
export async function postInvoices(
  stack: BenchStack,
  count: number,
  customers: string[],
  opts: { chunk?: number; unitPrice?: string; oddTaxEvery?: number } = {},
): Promise<string[]> {
  const numbers: string[] = [];
  const chunk = opts.chunk ?? count;
  // A tax of exactly half a cent (10 % of 1.45): a float-arithmetic portal rounds it down, and the sync corrects it.
  const oddTax = { description: 'Adapter', quantity: 1, unitPrice: '1.45', taxPercent: '10' };
  for (let from = 0; from < count; from += chunk) {
    const inputs = Array.from({ length: Math.min(chunk, count - from) }, (_, k) => ({
      customerNumber: customers[(from + k) % customers.length]!,
      lines: [
        { description: 'Consulting', quantity: 2, unitPrice: opts.unitPrice ?? '120.00', taxPercent: '8.25' },
        { description: 'Licence', quantity: 1, unitPrice: '10.05', taxPercent: '5' },
        ...(opts.oddTaxEvery && (from + k) % opts.oddTaxEvery === 0 ? [oddTax] : []),
      ],
    }));
    numbers.push(...stack.bc.admin.postInvoices(inputs).map((inv) => inv.number));
    // Let the sandbox deliver this chunk's notification before the next chunk is posted.
    await sleep(1);
  }
  return numbers;
}

/**
 * How many invoices the portal holds, read from the in-process sandbox: the throughput phase polls this every 50 ms,
 * and a request each time would charge the measurement's own cost to the sync it measures.
 */
export function portalInvoiceCount(stack: BenchStack): number {
  return stack.portal.admin.invoiceCount();
}

export async function countWorkflows(client: Client, query: string): Promise<number> {
  return (await client.workflow.count(query)).count;
}

export async function portalInvoice(stack: BenchStack, number: string): Promise<InInvoice> {
  const inv = await stack.deps.portals.client('default').findInvoiceByNumber(number);
  if (!inv) throw new Error(`invoice ${number} is not in the portal`);
  return inv;
}

/** A customer pays `amount` (decimal text; default the whole balance) of an invoice on the pay page. */
export async function pay(stack: BenchStack, inv: InInvoice, amount?: string, method: 'card' | 'bank' = 'card') {
  const key = inv.invitations[0]?.key;
  if (!key) throw new Error(`portal invoice ${inv.number} has no invitation`);
  const value = amount ?? formatDecimal(inv.balance.minor, inv.balance.currency);
  return payOnPortal(stack.portal.url, key, [{ invoiceId: inv.id, amount: value }], method);
}

/** The customer opens the link (a real view, not a staff preview). */
export async function view(inv: InInvoice): Promise<void> {
  const link = inv.invitations[0]?.link;
  if (!link) throw new Error(`portal invoice ${inv.number} has no link`);
  const res = await axios.get(link, { validateStatus: () => true });
  if (res.status !== 200) throw new Error(`opening ${link} answered ${res.status}`);
}

/** The ERP's record of portal payments: when each external document number's Payment entry was posted. */
export function postedPayments(stack: BenchStack): Map<string, { postedAtMs: number; entries: number; amountMinor: number }> {
  const out = new Map<string, { postedAtMs: number; entries: number; amountMinor: number }>();
  for (const e of stack.bc.admin.listLedgerEntries()) {
    if (e.documentType !== 'Payment' || !e.externalDocumentNumber) continue;
    const seen = out.get(e.externalDocumentNumber);
    const at = Date.parse(e.lastModifiedDateTime);
    const minor = -parseDecimal(e.amount, e.currencyCode);
    if (seen) {
      seen.entries++;
      seen.amountMinor += minor;
      seen.postedAtMs = Math.min(seen.postedAtMs, at);
    } else out.set(e.externalDocumentNumber, { postedAtMs: at, entries: 1, amountMinor: minor });
  }
  return out;
}

/** Starts invoices the way an operator's bulk call does: `POST /api/v1/invoices`, 500 numbers a call. */
export async function bulkStart(stack: BenchStack, numbers: string[]): Promise<void> {
  for (let i = 0; i < numbers.length; i += 500) {
    const res = await axios.post(
      `${stack.apiUrl}/api/v1/invoices`,
      { numbers: numbers.slice(i, i + 500) },
      { headers: { authorization: `Bearer ${stack.config.env.API_TOKEN}` }, validateStatus: () => true, timeout: 300_000 },
    );
    if (res.status !== 202) throw new Error(`bulk start answered ${res.status}: ${JSON.stringify(res.data)}`);
  }
}

/** Removes the BC subscription, so invoices posted now reach arsync only by the API. */
export async function pauseBcNotifications(stack: BenchStack): Promise<void> {
  for (const sub of await stack.deps.bc.listSubscriptions()) await stack.deps.bc.deleteSubscription(sub.subscriptionId);
}

/** The subscription workflow recreates what Business Central no longer has. */
export async function resumeBcNotifications(stack: BenchStack): Promise<void> {
  await stack.client.workflow.getHandle(bcSubscriptionWorkflowId(stack.ops.companyId, 'salesInvoices')).signal(renewNowSignal);
  await waitFor(async () => (await stack.deps.bc.listSubscriptions()).length > 0, 30_000, 'the Business Central subscription again');
}

import type { InPayment } from '../../src/adapters/invoiceNinja';
import { parseDecimal } from '../../src/domain/money';
import { erpWatcherState } from '../../src/operations/erpSync';
import { postErpInvoice, startReadyStack, type BothSides } from '../support/ready';
import { eventually, type StackOptions, type TestStack } from '../support/stack';

// Shared set-up for the ERP-to-portal tests: the whole stack with webhooks, pollers, the BC subscription and the ERP
// watcher running, C10000 and C20000 opted in; invoices posted in the sandbox ERP and waited for in the portal; readers of
// what the portal really holds.

export function startErpStack(opts: StackOptions = {}): Promise<TestStack> {
  return startReadyStack({ ...opts, settings: { ...opts.settings, polling: { erpLedgerInterval: '400ms', ...(opts.settings?.polling as object) } } });
}

export type Synced = BothSides;
export const postSynced = postErpInvoice;

export const portalInvoice = (s: TestStack, id: string) => s.deps.portals.client('default').getInvoice(id);

/** The portal payments applied to one invoice (deleted ones included). */
/** Every payment of the invoice's portal client: a deleted one included (Invoice Ninja drops its invoice links). */
export async function clientPayments(s: TestStack, inv: Synced): Promise<InPayment[]> {
  return s.deps.portals.client('default').listClientPayments(inv.portalClientId);
}

export async function paymentsOn(s: TestStack, inv: Synced): Promise<InPayment[]> {
  const all = await s.deps.portals.client('default').listClientPayments(inv.portalClientId);
  return all.filter((p) => p.invoices.some((i) => i.invoiceId === inv.portalInvoiceId));
}

/** Waits until the ERP watcher has polled `n` more times (each poll reads everything changed before it started). */
export async function watcherPolls(s: TestStack, n: number): Promise<void> {
  const start = (await erpWatcherState(s.ops)).polls;
  await eventually(async () => (await erpWatcherState(s.ops)).polls >= start + n, 15000, `${n} ERP watcher polls`);
}

export const usd = (decimal: string) => parseDecimal(decimal, 'USD');

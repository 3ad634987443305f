import type { InPayment } from '../../src/adapters/invoiceNinja';
import { parseDecimal } from '../../src/domain/money';
import { setOptIn } from '../../src/operations/customers';
import { erpWatcherState } from '../../src/operations/erpSync';
import { registerPortalWebhooks, startServiceWorkflows } from '../../src/operations/services';
import { eventually, startStack, type StackOptions, type TestStack } from '../support/stack';

// Shared set-up for the ERP-to-portal tests: the whole stack with webhooks, pollers, the BC subscription and the ERP
// watcher running, C10000 and C20000 opted in; invoices posted in the sandbox ERP and waited for in the portal; readers of
// what the portal really holds.

export async function startErpStack(opts: StackOptions = {}): Promise<TestStack> {
  const s = await startStack({ ...opts, settings: { ...opts.settings, polling: { erpLedgerInterval: '400ms', ...(opts.settings?.polling as object) } } });
  try {
    await registerPortalWebhooks(s.ops, s.deps.portals);
    await startServiceWorkflows(s.ops, s.deps.portals);
    await setOptIn(s.ops, ['C10000', 'C20000'], { optedIn: true, by: 'test' });
    await eventually(async () => (await s.deps.bc.listSubscriptions()).length > 0, 20000, 'the BC subscription');
  } catch (err) {
    await s.close();
    throw err;
  }
  return s;
}

export interface Synced {
  number: string;
  totalMinor: number;
  portalInvoiceId: string;
  clientId: string;
  invitationKey: string;
}

/** Posts an invoice in the sandbox ERP (one untaxed line) and waits until arsync has put it in the portal. */
export async function postSynced(s: TestStack, customerNumber: string, amount: string): Promise<Synced> {
  const erp = s.bc.admin.postInvoice({ customerNumber, lines: [{ description: 'Services', quantity: 1, unitPrice: amount, taxPercent: 0 }] });
  const portal = s.deps.portals.client('default');
  const inv = await eventually(async () => {
    const found = await portal.findInvoiceByNumber(erp.number);
    return found && found.invitations.length > 0 && found;
  }, 15000, `portal invoice ${erp.number}`);
  return { number: erp.number, totalMinor: inv.amount.minor, portalInvoiceId: inv.id, clientId: inv.clientId, invitationKey: inv.invitations[0]!.key };
}

export const portalInvoice = (s: TestStack, id: string) => s.deps.portals.client('default').getInvoice(id);

/** The portal payments applied to one invoice (deleted ones included). */
export async function paymentsOn(s: TestStack, inv: Synced): Promise<InPayment[]> {
  const all = await s.deps.portals.client('default').listClientPayments(inv.clientId);
  return all.filter((p) => p.invoices.some((i) => i.invoiceId === inv.portalInvoiceId));
}

/** Waits until the ERP watcher has polled `n` more times (each poll reads everything changed before it started). */
export async function watcherPolls(s: TestStack, n: number): Promise<void> {
  const start = (await erpWatcherState(s.ops)).polls;
  await eventually(async () => (await erpWatcherState(s.ops)).polls >= start + n, 15000, `${n} ERP watcher polls`);
}

export const usd = (decimal: string) => parseDecimal(decimal, 'USD');

import { WorkflowNotFoundError } from '@temporalio/client';
import type { BcSalesInvoice, BusinessCentralClient } from '../adapters/businessCentral';
import { reopenEndedInvoice, startInvoice, type Target } from '../temporal/starters';
import { formatAmount } from '../domain/money';
import { invoiceWorkflowId } from '../../workflows/ids';
import { erpInvoiceChangedSignal } from '../../workflows/invoiceMessages';
import { creditChecks } from '../../activities/erp';
import { mapLimit } from './context';

// What a change to an ERP sales invoice means for arsync, the same whether Business Central's notification told us
// (src/http/routes/bcWebhook.ts) or the subscription's catch-up found it after Business Central dropped the
// subscription (activities/subscriptions.ts): a posted invoice starts its workflow; one cancelled or corrected in
// the ERP is signalled if it runs. An invoice whose workflow ended at posted and that the ERP shows open with money due
// again (a payment or credit unapplied) gets a new run carrying the ended one's state (`reopenEndedInvoice`). One the ERP
// credited or cancelled after its workflow ended is the ERP watcher's to restart (poked for every posted invoice's
// notification, it reads the portal: only a portal invoice still open is cancelled), and the drift sweep's.

const POSTED = new Set(['Open', 'Paid']);
const ENDED = new Set(['Canceled', 'Corrective']);

export interface ErpInvoiceChangeDeps {
  bc: BusinessCentralClient;
  temporal: Target;
}

export interface ErpInvoiceChange {
  /** What was done, for the notification's answer (`<number>: accepted`). */
  outcome: string;
  /** Whether the invoice is a posted one. */
  posted: boolean;
}

/**
 * Acts on several changed invoices, `concurrency` at a time, with one read of the credit memos for those of them that
 * are paid (rather than one read each).
 */
export async function onErpInvoicesChanged(deps: ErpInvoiceChangeDeps, companyId: string, invs: readonly BcSalesInvoice[], concurrency: number): Promise<ErpInvoiceChange[]> {
  const [credited, postedOpen] = await Promise.all([
    // A credit check that cannot be answered counts as credited: the invoice is signalled and reads both sides itself.
    creditChecks(deps, invs).catch(() => () => true),
    // One that cannot say whether an open invoice is posted fails the delivery (BC delivers it again).
    deps.bc.postedInvoiceNumbers(invs.filter((inv) => inv.status === 'Open').map((inv) => inv.number)),
  ]);
  return mapLimit(invs, concurrency, (inv) =>
    inv.status === 'Open' && !postedOpen.has(inv.number)
      ? Promise.resolve({ outcome: `${inv.number}: ignored (released, not posted)`, posted: false })
      : onErpInvoiceChanged(deps, companyId, inv, credited),
  );
}

async function onErpInvoiceChanged(deps: ErpInvoiceChangeDeps, companyId: string, inv: BcSalesInvoice, credited: (inv: BcSalesInvoice) => boolean): Promise<ErpInvoiceChange> {
  // `Open` here is a posted invoice (a released draft was answered above).
  if (POSTED.has(inv.status)) {
    const outcome = await startInvoice(deps.temporal, companyId, inv.number, { customerNumber: inv.customerNumber || undefined, erpPosted: true });
    // Paid by payments, a running invoice hears it from their side: a portal payment's workflow tells it when
    // posting, the ledger watcher of payments applied in the ERP. Closed by a credit memo, nobody would: that one is
    // signalled (so is any invoice the credit check cannot answer for).
    if (outcome === 'accepted' && inv.status === 'Paid' && credited(inv)) {
      await signalIfRunning(deps, companyId, inv.number, 'credited in the ERP');
    }
    // Ended, and open in the ERP with money due again: reopened, unless it ended for good (cancelled).
    if (outcome === 'completed' && inv.status === 'Open' && inv.remaining.minor > 0) {
      const why = `reopened in the ERP: ${formatAmount(inv.remaining.minor, inv.currencyCode)} due again`;
      const reopened = await reopenEndedInvoice(deps.temporal, companyId, inv.number, why);
      // Running: another caller (a duplicate notification, the watcher) started it again a moment before.
      if (reopened === 'reopened' || reopened === 'running') return { outcome: `${inv.number}: ${reopened === 'reopened' ? 'reopened' : 'accepted'}`, posted: true };
    }
    return { outcome: `${inv.number}: ${outcome}`, posted: true };
  }
  if (ENDED.has(inv.status)) {
    const signalled = await signalIfRunning(deps, companyId, inv.number, `${inv.status} in the ERP`);
    return { outcome: `${inv.number}: ${signalled ? 'signalled' : 'not tracked'}`, posted: false };
  }
  return { outcome: `${inv.number}: ignored (${inv.status || 'draft'})`, posted: false };
}

async function signalIfRunning(deps: ErpInvoiceChangeDeps, companyId: string, number: string, reason: string): Promise<boolean> {
  try {
    await deps.temporal.client.workflow.getHandle(invoiceWorkflowId(companyId, number)).signal(erpInvoiceChangedSignal, { reason });
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

import { ApplicationFailure } from '@temporalio/common';
import type { PortalClientAnswer } from '../workflows/customer';
import { requestPortalClientOf } from './coordination';
import { publishedPortalClientOf } from './customerMemo';
import type { ActivityDeps } from './deps';
import { summarise, unknownInvoice, type ErpInvoiceSummary } from './erp';
import { classified } from './failures';
import { sendLink, type LinkResult } from './notifications';
import { mirrorInvoice, type MirroredInvoice } from './portal';

export interface SyncInvoiceInput {
  companyId: string;
  invoiceNumber: string;
  invoiceWorkflowId: string;
  /** The invoice's starter saw it posted: an `Open` read needs no ledger check (posted stays posted). */
  erpPosted?: true;
  /** The link send that follows a sync when the settings say so. */
  link: {
    /** This send's sequence number (its idempotency key). */
    sequence: number;
    /** Whether the customer has the link already. */
    sent: boolean;
    /** The link before a "Modify Sync Status" reset: a resync that finds the same portal invoice sends nothing. */
    beforeReset: string | null;
  };
}

/**
 * How far one sync got. Each step runs only when the one before allowed it, as the invoice workflow would have run
 * them one activity at a time: `customer` once the ERP invoice is posted, `synced` or `rejected` once the customer is
 * ready, `link` once the portal invoice matches the ERP total, the link is due and the ERP has an amount left to pay.
 */
export interface SyncInvoiceOutcome {
  erp: ErpInvoiceSummary;
  customer?: PortalClientAnswer;
  synced?: MirroredInvoice;
  /** The portal (or the rounding rule) refused the invoice for good: the failure's type and message. */
  rejected?: { type: string; message: string };
  link?: LinkResult | { failed: string };
}

/** A permanent failure (non-retryable) as data; anything else is left to the activity's retry policy. */
function permanentFailure(err: unknown): { type: string; message: string } | null {
  return err instanceof ApplicationFailure && err.nonRetryable ? { type: err.type ?? 'error', message: err.message } : null;
}

// ERP → portal in one activity: read the ERP invoice (once, with its lines and, for the link, its customer), take the
// portal client the customer's workflow has published (or ask it by Update when it has none ready), mirror the invoice
// and send the link. One activity instead of four is three billed actions less per invoice, and every step is
// idempotent on its own (create unless the number is taken, keyed link send), so a retry from the top repeats nothing.
export function createInvoiceSyncActivities(deps: ActivityDeps) {
  return {
    async syncInvoice(input: SyncInvoiceInput): Promise<SyncInvoiceOutcome> {
      // Whether an `Open` invoice is posted is asked alongside the read, unless the starter saw it posted.
      const [inv, posted] = await classified(() =>
        Promise.all([
          deps.bc.getSalesInvoiceByNumber(input.invoiceNumber, { lines: true, customer: true }),
          input.erpPosted ? null : deps.bc.postedInvoiceNumbers([input.invoiceNumber]),
        ]),
      );
      if (!inv) return { erp: unknownInvoice(input.invoiceNumber) };
      // A released draft reads as `Open` too: not posted, it waits as a draft does (nothing reaches the portal).
      const erp = summarise(inv, posted === null || posted.has(inv.number));
      if (erp.status !== 'open' && erp.status !== 'paid') return { erp };
      const customer =
        (await publishedPortalClientOf(deps, input.companyId, erp.customerNumber)) ??
        (await requestPortalClientOf(deps, { companyId: input.companyId, customerNumber: erp.customerNumber, invoiceWorkflowId: input.invoiceWorkflowId }));
      if (customer.status !== 'ready') return { erp, customer };
      let synced: MirroredInvoice;
      try {
        synced = await classified(() => mirrorInvoice(deps, inv, customer.connectionKey, customer.clientId, customer.autoBill));
      } catch (err) {
        const rejected = permanentFailure(err);
        if (!rejected) throw err;
        return { erp, customer, rejected };
      }
      const hasLink = input.link.sent && (input.link.beforeReset === null || synced.portal.link === input.link.beforeReset);
      // Nothing due (paid or credited in the ERP before the invoice reached the portal): no "0.00 is due" link.
      const nothingDue = erp.remainingMinor <= 0;
      if (!synced.sendLinkOnSync || hasLink || nothingDue || synced.portalTotalMinor !== erp.totalMinor) return { erp, customer, synced };
      try {
        const link = await classified(() =>
          sendLink(deps, { companyId: input.companyId, invoiceNumber: input.invoiceNumber, customerNumber: erp.customerNumber, portal: synced.portal, sequence: input.link.sequence }, inv),
        );
        return { erp, customer, synced, link };
      } catch (err) {
        const failed = permanentFailure(err);
        if (!failed) throw err;
        return { erp, customer, synced, link: { failed: failed.message } };
      }
    },
  };
}

import { WorkflowNotFoundError } from '@temporalio/client';
import type { BcLedgerEntry, BcSalesInvoice } from '../src/adapters/businessCentral';
import { ExternalServiceError } from '../src/adapters/http/errors';
import type { InInvoice, InPayment } from '../src/adapters/invoiceNinja';
import { classifyDrift } from '../src/domain/drift';
import {
  planMirror,
  type Allocation,
  type ErpCredit,
  type MirrorDecision,
  type MirroredPayment,
  type MirrorInvoice,
  type MirrorPolicy,
  type PlannedRecord,
  type PlannedRemoval,
} from '../src/domain/erpMirror';
import { formatAmount } from '../src/domain/money';
import { paidInFullDate } from '../src/domain/syncWindow';
import { AmountDue, InvoiceNumber } from '../src/temporal/searchAttributes';
import { literal } from '../src/operations/visibility';
import { observePayment, reopenEndedInvoice } from '../src/temporal/starters';
import { chunks } from '../src/adapters/chunks';
import { erpWatcherStateQuery } from '../workflows/erpMessages';
import { erpWatcherWorkflowId, invoiceWorkflowId } from '../workflows/ids';
import type { ActivityDeps } from './deps';
import { publishedPortalClientOf } from './customerMemo';
import { creditedInErp, erpPostingStates, erpStatus } from './erp';
import type { ErpApplicationNote, ErpApplicationRow, ErpPollResult, MirrorBatchResult, MirrorMode, MirrorRow, StaleInvoice, TouchedInvoice } from './erpMirrorTypes';
import { classified, permanent } from './failures';
import { isErpOrigin } from './intake';
import { gatewayFeeLinesMinor, usableInPortal } from './portal';
import type { ErpPostingState } from './paymentTypes';

// Payments made in the ERP, brought to the portal (rules: src/domain/erpMirror.ts). One customer at a time: read both
// sides fresh, plan, carry out the plan, read the portal again for the report. Every read is fresh, so a retried activity
// finds what an earlier attempt already did and plans nothing for it.

const CREDIT_TYPES = new Set(['Payment', 'Credit Memo']);
/** Entries modified this close together were changed by the same posting (Business Central stamps each Modify). */
const SAME_POSTING_MS = 1000;
/** Entries stamped by one posting differ by a few milliseconds at most. */
const SAME_STAMP_MS = 20;

const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const sumOf = (xs: number[]) => xs.reduce((s, x) => s + x, 0);

/** Counts toward the invoice balances: not deleted, voided or failed (a refunded one nets to zero by itself). */
function counts(p: InPayment): boolean {
  return !p.isDeleted && p.status !== 'cancelled' && p.status !== 'failed';
}

/** An ERP invoice and its portal invoice, on the connection it lives on. */
interface Synced {
  erp: BcSalesInvoice;
  portal: InInvoice;
  key: string;
}
/** A portal payment and the connection it was read from. */
type Tagged = InPayment & { connectionKey: string };
/** A portal id made unique across connections (each portal numbers its own). */
const onConnection = (key: string, id: string) => `${key}\u0000${id}`;

interface CustomerJob {
  companyId: string;
  customerNumber: string;
  invoices: BcSalesInvoice[];
  /** This customer's ledger entries read for the run (credits to attribute, invoice entry numbers). */
  ledger: BcLedgerEntry[];
  mode: MirrorMode;
  onlyEntries?: number[];
  /** Drift sweep: nudge portal payments not posted in the ERP after this long. */
  retryUnpostedOlderThanMs?: number;
}

/** Who looked, in an invoice's timeline when it is reopened. */
const SOURCE: Record<MirrorMode, string> = {
  watch: 'ERP watcher',
  window: 'window sync',
  sweep: 'drift sweep',
  list: 'unsynced applications list',
  sync: 'ERP applications sync',
};

/** A portal invoice the customer can still pay: not cancelled, reversed or deleted, with a balance. */
function openInPortal(inv: InInvoice): boolean {
  return usableInPortal(inv) && inv.balance.minor > 0;
}

/** A problem with one customer that retrying the activity cannot fix: reported on its rows, the run carries on. */
function isPermanent(err: unknown): boolean {
  if (err instanceof ExternalServiceError) return !err.retryable;
  return err instanceof RangeError;
}

export function createErpMirrorActivities(deps: ActivityDeps) {
  const { bc, portals } = deps;

  /**
   * The connections to look for a customer's invoices on, most likely first: the one its portal client is on (the
   * customer workflow's memo), else its posting group's; then the others. A customer moved to another posting group
   * keeps its invoices on the portal they were synced to (and its client there until "Sync Customer").
   */
  const connectionsFor = async (companyId: string, customerNumber: string): Promise<string[]> => {
    const keys = portals.keys();
    if (keys.length === 1) return keys;
    const client = await publishedPortalClientOf(deps, companyId, customerNumber);
    const published = client?.status === 'ready' ? client.connectionKey : null;
    const first = published && keys.includes(published) ? published : portals.keyFor((await bc.getCustomerByNumber(customerNumber, { details: true }))?.postingGroup);
    return [first, ...keys.filter((k) => k !== first)];
  };

  /** The portal invoice and the connection it lives on: the first that has it, unless a later one has it live. */
  const locate = async (number: string, keys: string[]): Promise<{ key: string; invoice: InInvoice } | null> => {
    let found: { key: string; invoice: InInvoice } | null = null;
    for (const key of keys) {
      const invoice = await portals.client(key).findInvoiceByNumber(number);
      if (!invoice) continue;
      found ??= { key, invoice };
      if (usableInPortal(invoice)) return { key, invoice };
    }
    return found;
  };

  const baseRow = (inv: { number: string; customerNumber: string }, currency: string | null): MirrorRow => ({
    invoiceNumber: inv.number,
    customerNumber: inv.customerNumber,
    currency,
    status: 'already_right',
    decision: null,
    detail: '',
    erpPaidMinor: null,
    erpRemainingMinor: null,
    portalBalanceBeforeMinor: null,
    portalBalanceAfterMinor: null,
    portalPaidMinor: null,
    recordedMinor: 0,
    removedMinor: 0,
    unresolvedMinor: 0,
    datePaid: null,
    references: [],
    retriedPayments: [],
  });

  async function mirrorCustomer(job: CustomerJob, postings: Map<string, ErpPostingState>): Promise<MirrorBatchResult> {
    const rows: MirrorRow[] = [];
    const applications: ErpApplicationRow[] = [];
    const notes: ErpApplicationNote[] = [];
    const today = isoDate(Date.now());
    const apply = job.mode !== 'list';

    // Each invoice on the connection it lives on: after a posting group change one customer's invoices are on two.
    const keys = await connectionsFor(job.companyId, job.customerNumber);
    const synced: Synced[] = [];
    for (const erp of job.invoices) {
      const found = await locate(erp.number, keys);
      if (!found) {
        rows.push({ ...baseRow({ number: erp.number, customerNumber: job.customerNumber }, erp.currencyCode), status: 'not_in_portal', detail: `invoice ${erp.number} could not be found in the portal` });
        continue;
      }
      synced.push({ erp, portal: found.invoice, key: found.key });
    }
    if (synced.length === 0) return { rows, applications, notes };

    const listPayments = async () => {
      const out: Tagged[] = [];
      const clients = new Map(synced.map((s) => [onConnection(s.key, s.portal.clientId), s] as const));
      for (const { key, portal } of clients.values()) {
        for (const p of await portals.client(key).listClientPayments(portal.clientId)) out.push({ ...p, connectionKey: key });
      }
      return out;
    };
    const payments = await listPayments();
    const nativeIds = new Set(payments.filter((p) => !isErpOrigin(p)).map((p) => p.id));
    const placed = new Map(synced.map((s) => [s.erp.number, s]));
    const numberOfInvoice = new Map(synced.map((s) => [onConnection(s.key, s.portal.id), s.erp.number]));
    /** The payment's part on the invoice: portal ids are per connection, so only a payment on the invoice's own. */
    const partsOn = (p: Tagged, s: Synced) => (p.connectionKey === s.key ? p.invoices.filter((i) => i.invoiceId === s.portal.id) : []);
    const currencyOf = (allocations: readonly Allocation[]) => placed.get(allocations[0].invoiceNumber)!.portal.currency;

    // Entries arsync posted for portal payments carry the portal payment id (or a reversal, <id>-R, <id>-R2, …): never
    // echoed back.
    const fromPortal = (e: BcLedgerEntry) => {
      const x = e.externalDocumentNumber;
      return x !== '' && (nativeIds.has(x) || nativeIds.has(x.replace(/-R\d*$/, '')));
    };
    // An application modifies the invoice's entry and the credit's entry in one posting: the same instant links them.
    // Of the credits modified within SAME_POSTING_MS of an invoice's entry, only the nearest in time (within
    // SAME_STAMP_MS of the nearest) are linked to it: another payment of the customer changed a moment earlier is not.
    const invoiceEntries = job.ledger.filter((e) => e.documentType === 'Invoice');
    const creditEntries = job.ledger.filter((e) => CREDIT_TYPES.has(e.documentType) && e.amount.minor < 0 && !fromPortal(e));
    const apart = (a: BcLedgerEntry, b: BcLedgerEntry) => Math.abs(Date.parse(a.lastModifiedDateTime) - Date.parse(b.lastModifiedDateTime));
    const nearest = new Map(invoiceEntries.map((i) => [i.entryNumber, creditEntries.reduce((min, c) => Math.min(min, apart(i, c)), Infinity)]));
    const comodified = (e: BcLedgerEntry) =>
      invoiceEntries
        .filter((i) => apart(i, e) <= SAME_POSTING_MS && apart(i, e) <= nearest.get(i.entryNumber)! + SAME_STAMP_MS)
        .map((i) => i.documentNumber);
    const credits: ErpCredit[] = creditEntries
      .map((e) => ({
        entryNumber: e.entryNumber,
        documentType: e.documentType,
        documentNumber: e.documentNumber,
        postingDate: e.postingDate,
        amountMinor: -e.amount.minor,
        open: e.open,
        comodified: comodified(e),
      }));

    // Mirrored payments of every connection: what an entry was mirrored for counts wherever it was recorded.
    const mirrored: MirroredPayment[] = payments.filter(isErpOrigin).map((p) => ({
      paymentId: onConnection(p.connectionKey, p.id),
      reference: p.transactionReference,
      live: counts(p) && p.status !== 'refunded',
      createdAt: p.createdAt,
      applied: counts(p)
        ? Object.fromEntries(
            p.invoices
              .map((pb) => [numberOfInvoice.get(onConnection(p.connectionKey, pb.invoiceId)) ?? `#${pb.invoiceId}`, pb.amount.minor - pb.refunded.minor] as const)
              .filter(([, v]) => v > 0),
          )
        : {},
    }));

    // A payment the portal shows whole (counted, nothing refunded) needs only to be known posted, and an entry under its
    // id in this run's ledger read says so (the watcher's read after arsync posted it has that posting): it is not
    // read again. Refunded or voided ones need their posted amount and reversals, read with the rest.
    const inLedger = new Set(job.ledger.map((e) => e.externalDocumentNumber).filter((x) => x !== ''));
    const postedAsShown = (p: Tagged) => counts(p) && p.invoices.every((i) => i.refunded.minor === 0) && inLedger.has(p.id);
    // Whether the ERP has each other customer payment on these invoices: read together up front (one query per five
    // payments), and once per run for a payment on several customers' invoices.
    const unread = payments.filter(
      (p) => !isErpOrigin(p) && !postings.has(p.id) && !postedAsShown(p) && p.invoices.some((i) => numberOfInvoice.has(onConnection(p.connectionKey, i.invoiceId))),
    );
    for (const [id, state] of await erpPostingStates(deps, unread.map((p) => p.id))) postings.set(id, state);
    const invoiceEntryOf = async (number: string): Promise<number> => {
      const inLedger = job.ledger.find((e) => e.documentType === 'Invoice' && e.documentNumber === number);
      if (inLedger) return inLedger.entryNumber;
      const found = (await bc.findPostedEntries(number)).find((e) => e.documentType === 'Invoice' && e.documentNumber === number);
      if (!found) throw new RangeError(`invoice ${number} has no ledger entry in the ERP`);
      return found.entryNumber;
    };

    // Both balances, with portal payments on their way to the ERP and portal reversals of posted payments accounted for.
    const mirrorInvoices: MirrorInvoice[] = [];
    const unposted = new Map<string, Tagged[]>();
    /** Invoices the ERP cancelled or credited in full. */
    const cancelledInErp = new Set<string>();
    for (const s of synced) {
      const { erp, portal: pinv } = s;
      const feeLines = gatewayFeeLinesMinor(pinv);
      let inFlight = 0;
      let reversedAfterPosting = 0;
      let uncertain: string | null = null;
      const stuck: Tagged[] = [];
      for (const p of payments) {
        if (isErpOrigin(p)) continue;
        const [pb] = partsOn(p, s);
        if (!pb) continue;
        if (postedAsShown(p)) continue; // posted as the portal shows it
        const net = counts(p) ? pb.amount.minor - pb.refunded.minor : 0;
        const posting = postings.get(p.id)!; // read above: a customer payment on a synced invoice
        if (!posting.posted) {
          if (net <= 0) continue;
          inFlight += net;
          stuck.push(p);
          if (feeLines > 0) uncertain = `portal payment ${p.id} is not posted in the ERP yet and the invoice has gateway fees`;
          continue;
        }
        if (counts(p) && pb.refunded.minor === 0) continue; // posted as the portal shows it
        // Refunded or voided after posting: the ERP keeps the application and books the reversal to the customer.
        if (feeLines > 0) {
          uncertain = `portal payment ${p.id} was refunded or voided after posting and the invoice has gateway fees`;
          continue;
        }
        const erpApplied = p.invoices.length === 1 ? Math.min(posting.postedMinor, pb.amount.minor) : pb.amount.minor;
        reversedAfterPosting += Math.max(0, erpApplied - net);
      }
      unposted.set(erp.number, stuck);
      // Closed by a credit memo counts as cancelled: the invoice workflow cancels it in the portal (not a payment).
      const erpCancelled = erpStatus(erp) === 'cancelled' || (await creditedInErp(deps, erp));
      if (erpCancelled) cancelledInErp.add(erp.number);
      let decision: MirrorDecision = classifyDrift({
        currency: erp.currencyCode,
        erpRemainingMinor: erp.remaining.minor,
        erpCancelled,
        portal: { currency: pinv.currency, balanceMinor: pinv.balance.minor - reversedAfterPosting, cancelled: pinv.status === 'cancelled' || pinv.isDeleted },
        inFlightToErpMinor: inFlight,
      });
      if (uncertain && decision.kind !== 'report') decision = { kind: 'deferred', detail: uncertain };
      mirrorInvoices.push({ invoiceNumber: erp.number, invoiceEntryNumber: await invoiceEntryOf(erp.number), decision });
    }

    const touched = new Set(credits.map((c) => c.entryNumber));
    const policy: MirrorPolicy = {
      attributeRemainder: job.mode !== 'watch',
      // The watcher reduces only what the entries it just read explain; the others trust an entry that is open again.
      reducible:
        job.mode === 'watch'
          ? (_p, f) => (f.credit ? touched.has(f.credit.entryNumber) : (f.byInvoiceEntry || f.entryNumber === null) && touched.size > 0)
          : (_p, f) => (f.credit ? f.credit.open : true),
      today,
      onlyEntries: job.onlyEntries ? new Set(job.onlyEntries) : undefined,
    };
    const plan = planMirror(mirrorInvoices, credits, mirrored, policy);
    // A portal payment lives on one portal: an entry applied to invoices on two connections is recorded on each, under
    // the same reference (each portal keeps its own idempotency keys).
    const records = plan.records.flatMap((r) => {
      const byKey = new Map<string, Allocation[]>();
      for (const a of r.allocations) {
        const key = placed.get(a.invoiceNumber)!.key;
        byKey.set(key, [...(byKey.get(key) ?? []), a]);
      }
      return [...byKey].map(([connectionKey, allocations]) => ({ ...r, connectionKey, allocations, amountMinor: sumOf(allocations.map((a) => a.amountMinor)) }));
    });
    const byPaymentId = new Map(payments.map((p) => [onConnection(p.connectionKey, p.id), p]));
    const removals = plan.removals.map((r) => {
      const p = byPaymentId.get(r.paymentId)!;
      return { ...r, paymentId: p.id, connectionKey: p.connectionKey };
    });

    const done = new Map<object, { portalPaymentId: string; action: 'recorded' | 'deleted' | 'refunded' }>();
    if (apply) {
      for (const r of records) {
        const first = placed.get(r.allocations[0].invoiceNumber)!.portal;
        const created = await portals.client(r.connectionKey).createPayment({
          clientId: first.clientId,
          amountMinor: r.amountMinor,
          currency: first.currency,
          invoices: r.allocations.map((a) => ({ invoiceId: placed.get(a.invoiceNumber)!.portal.id, amountMinor: a.amountMinor })),
          idempotencyKey: r.reference,
          transactionReference: r.reference,
          date: r.date,
          privateNotes: r.description,
          emailReceipt: false,
        });
        done.set(r, { portalPaymentId: created.id, action: 'recorded' });
      }
      for (const r of removals) {
        const portal = portals.client(r.connectionKey);
        if (r.whole) {
          await portal.deletePayment(r.paymentId);
          done.set(r, { portalPaymentId: r.paymentId, action: 'deleted' });
        } else {
          await portal.refundPayment({
            paymentId: r.paymentId,
            currency: currencyOf(r.allocations),
            date: today,
            invoices: r.allocations.map((a) => ({ invoiceId: placed.get(a.invoiceNumber)!.portal.id, amountMinor: a.amountMinor })),
          });
          done.set(r, { portalPaymentId: r.paymentId, action: 'refunded' });
        }
      }
    }
    applications.push(...records.map((r) => applicationOf(r, job.customerNumber, currencyOf(r.allocations), done.get(r)?.portalPaymentId ?? null, done.get(r)?.action)));
    applications.push(...removals.map((r) => removalOf(r, job.customerNumber, currencyOf(r.allocations), today, done.get(r)?.action)));
    if (apply) {
      for (const r of records) {
        for (const a of r.allocations) {
          notes.push({ invoiceNumber: a.invoiceNumber, entryNumber: r.entryNumber, amountMinor: a.amountMinor, kind: 'applied', postedAt: r.date, portalPaymentId: done.get(r)?.portalPaymentId });
        }
      }
      for (const r of removals) {
        for (const a of r.allocations) {
          notes.push({ invoiceNumber: a.invoiceNumber, entryNumber: r.entryNumber ?? 0, amountMinor: a.amountMinor, kind: 'unapplied', postedAt: today, portalPaymentId: r.paymentId });
        }
      }
    }

    // Drift sweep: a portal payment that should have reached the ERP by now is nudged (its workflow re-reads both sides).
    const retried = new Map<string, string[]>();
    if (job.mode === 'sweep' && job.retryUnpostedOlderThanMs !== undefined) {
      const cutoff = Date.now() - job.retryUnpostedOlderThanMs;
      const nudged = new Set<string>();
      for (const [number, stuck] of unposted) {
        for (const p of stuck.filter((x) => x.createdAt * 1000 <= cutoff)) {
          const id = onConnection(p.connectionKey, p.id);
          if (!nudged.has(id)) {
            await observePayment(deps.temporal, job.companyId, p.connectionKey, p.id, { source: 'manual', updatedAt: p.updatedAt, event: 'drift sweep: not posted in the ERP' });
            nudged.add(id);
          }
          retried.set(number, [...(retried.get(number) ?? []), p.id]);
        }
      }
    }

    // The report: the portal as it is now.
    const changed = apply && (records.length > 0 || removals.length > 0);
    const after = changed ? await listPayments() : payments;
    /** Rows whose invoice workflow may have to act: cancelled or credited in the ERP while open in the portal; money due. */
    const toCancel: Array<{ row: MirrorRow; what: string }> = [];
    const dueAgain: MirrorRow[] = [];
    for (const s of synced) {
      const { erp, portal: before } = s;
      const pinv = changed ? await portals.client(s.key).getInvoice(before.id) : before;
      const outcome = plan.outcomes.find((o) => o.invoiceNumber === erp.number)!;
      const refs = [
        ...records.filter((r) => r.allocations.some((a) => a.invoiceNumber === erp.number)).map((r) => r.reference),
        ...removals.filter((r) => r.allocations.some((a) => a.invoiceNumber === erp.number)).map((r) => r.reference),
      ];
      const onInvoice = after
        .filter(counts)
        .map((p) => ({ date: p.date, amountMinor: sumOf(partsOn(p, s).map((i) => i.amount.minor - i.refunded.minor)) }))
        .filter((a) => a.amountMinor > 0);
      const paidInFull = erp.remaining.minor === 0 && pinv.balance.minor === 0 && erpStatus(erp) !== 'cancelled';
      const row: MirrorRow = {
        ...baseRow({ number: erp.number, customerNumber: job.customerNumber }, erp.currencyCode),
        decision: outcome.decision.kind,
        erpPaidMinor: erp.totalIncludingTax.minor - erp.remaining.minor,
        erpRemainingMinor: erp.remaining.minor,
        portalBalanceBeforeMinor: before.balance.minor,
        portalBalanceAfterMinor: pinv.balance.minor,
        // A cancelled invoice's balance is 0 whatever was paid: what it was paid is its paid-to-date.
        portalPaidMinor:
          pinv.status === 'cancelled' ? Math.max(0, pinv.paidToDate.minor - gatewayFeeLinesMinor(pinv)) : pinv.amount.minor - gatewayFeeLinesMinor(pinv) - pinv.balance.minor,
        recordedMinor: outcome.recordedMinor,
        removedMinor: outcome.removedMinor,
        unresolvedMinor: outcome.unresolvedMinor,
        datePaid: paidInFull
          ? paidInFullDate({
              totalMinor: erp.totalIncludingTax.minor,
              remainingMinor: 0,
              applications: onInvoice,
              closedDate: erp.status === 'Paid' ? erp.lastModifiedDateTime.slice(0, 10) : null,
            })
          : null,
        references: refs,
        retriedPayments: retried.get(erp.number) ?? [],
      };
      Object.assign(row, statusOf(outcome.decision, outcome, row.retriedPayments.length, erp.currencyCode));
      rows.push(row);
      if (apply && cancelledInErp.has(erp.number) && openInPortal(pinv)) toCancel.push({ row, what: erpStatus(erp) === 'cancelled' ? 'cancelled' : 'credited' });
      else if (apply && erpStatus(erp) === 'open' && erp.remaining.minor > 0) dueAgain.push(row);
    }
    if (apply) await wakeInvoices(job, toCancel, dueAgain);
    return { rows, applications, notes };
  }

  /**
   * The invoice workflows the ERP's side calls for. Cancelled or credited in the ERP while the portal invoice is still
   * open: a running workflow is woken to cancel it (the ERP watcher leaves that to the notification, which signals it
   * already), one that ended at posted is started again to do so; healed, not reported. Open with money due while the
   * workflow ended at posted (a payment unapplied after it settled): started again, carrying its state, at the due stage.
   * A cancelled invoice stays cancelled (`reopenEndedInvoice`).
   */
  async function wakeInvoices(job: CustomerJob, toCancel: Array<{ row: MirrorRow; what: string }>, dueAgain: MirrorRow[]): Promise<void> {
    const source = SOURCE[job.mode];
    for (const { row, what } of toCancel) {
      const outcome = await reopenEndedInvoice(deps.temporal, job.companyId, row.invoiceNumber, `${source}: ${what} in the ERP while the portal invoice is open`, {
        wake: job.mode !== 'watch',
      });
      if (outcome !== 'reopened' && !(outcome === 'running' && job.mode !== 'watch')) continue;
      row.invoiceWorkflow = outcome === 'reopened' ? 'reopened' : 'woken';
      row.status = 'changed';
      row.detail = `${what} in the ERP, open in the portal: its invoice workflow ${outcome === 'reopened' ? 'was started again (it had ended at posted)' : 'was woken'} to cancel it there`;
    }
    if (dueAgain.length === 0) return;
    const ended = await endedAtPosted(job.companyId, dueAgain.map((r) => r.invoiceNumber));
    for (const row of dueAgain.filter((r) => ended.has(r.invoiceNumber))) {
      const due = formatAmount(row.erpRemainingMinor ?? 0, row.currency ?? '');
      if ((await reopenEndedInvoice(deps.temporal, job.companyId, row.invoiceNumber, `${source}: ${due} due again in the ERP`)) !== 'reopened') continue;
      row.invoiceWorkflow = 'reopened';
      row.detail = `${row.detail}; its invoice workflow, ended at posted, was started again: ${due} due again`;
    }
  }

  /**
   * Of these invoices, those with a run completed at posted (visibility, 50 to a query): only they can have ended with
   * money due again in the ERP since. A later run may be running already (`reopenEndedInvoice` looks).
   */
  async function endedAtPosted(companyId: string, numbers: string[]): Promise<Set<string>> {
    const prefix = invoiceWorkflowId(companyId, '');
    const out = new Set<string>();
    for (const group of chunks(numbers, 50)) {
      const query = [
        `WorkflowType = 'invoiceLifecycle'`,
        `ExecutionStatus = 'Completed'`,
        `TaskQueue = ${literal(deps.temporal.taskQueue)}`,
        `Stage = 'posted'`,
        `WorkflowId IN (${group.map((n) => literal(invoiceWorkflowId(companyId, n))).join(', ')})`,
      ].join(' AND ');
      for await (const wf of deps.temporal.client.workflow.list({ query })) out.add(wf.workflowId.slice(prefix.length));
    }
    return out;
  }

  /** Runs each customer's job; a permanent problem marks that customer's rows failed and the others carry on. */
  async function runJobs(jobs: CustomerJob[]): Promise<MirrorBatchResult> {
    const postings = new Map<string, ErpPostingState>();
    const out: MirrorBatchResult = { rows: [], applications: [], notes: [] };
    for (const job of jobs) {
      try {
        const r = await mirrorCustomer(job, postings);
        out.rows.push(...r.rows);
        out.applications.push(...r.applications);
        out.notes.push(...r.notes);
      } catch (err) {
        if (!isPermanent(err)) throw err;
        for (const inv of job.invoices) {
          out.rows.push({ ...baseRow({ number: inv.number, customerNumber: job.customerNumber }, inv.currencyCode), status: 'failed', detail: (err as Error).message });
        }
      }
    }
    return out;
  }

  /** ERP invoices by number, grouped into one job per customer; unknown and unposted ones become rows. */
  async function jobsFor(
    numbers: string[],
    ledger: BcLedgerEntry[],
    base: Omit<CustomerJob, 'customerNumber' | 'invoices' | 'ledger'>,
  ): Promise<{ jobs: CustomerJob[]; rows: MirrorRow[] }> {
    const rows: MirrorRow[] = [];
    const byCustomer = new Map<string, BcSalesInvoice[]>();
    const wanted = [...new Set(numbers)];
    // One query per 20 invoices, not one request each.
    const found = wanted.length ? await bc.findSalesInvoicesByNumbers(wanted) : [];
    for (const n of wanted) {
      const inv = found.find((i) => i.number === n) ?? null;
      const status = erpStatus(inv);
      if (!inv || status === 'unknown' || status === 'draft') {
        rows.push({ ...baseRow({ number: n, customerNumber: inv?.customerNumber ?? '' }, inv?.currencyCode ?? null), status: 'failed', detail: `invoice ${n} is not a posted invoice in the ERP` });
        continue;
      }
      const customer = inv.billToCustomerNumber || inv.customerNumber;
      byCustomer.set(customer, [...(byCustomer.get(customer) ?? []), inv]);
    }
    const jobs = [...byCustomer].map(([customerNumber, invoices]) => ({ ...base, customerNumber, invoices, ledger: ledger.filter((e) => e.customerNumber === customerNumber) }));
    return { jobs, rows };
  }

  return {
    /**
     * One poll of the ERP ledger watermark: the customer ledger entries modified since `sinceIso` (reportsFinance), the
     * invoices they touch (plus those to look at again), each brought in line from what those entries explain.
     */
    async pollErpLedger(input: { companyId: string; sinceIso: string; retry: TouchedInvoice[]; seen?: string[] }): Promise<ErpPollResult> {
      return classified(async () => {
        const entries = await bc.listCustomerLedgerEntriesSince(input.sinceIso);
        // The overlap re-reads entries already handled: only those changed since are news (all stay credit candidates).
        const seen = new Set(input.seen ?? []);
        const fresh = entries.filter((e) => !seen.has(ledgerKey(e)));
        // Money moved on an invoice entry only with an application or unapplication, which changes the payment or
        // credit memo entry as well (this read has it). Invoice entries of customers with no such entry in the read,
        // above all invoices just posted, have nothing to mirror: their invoice workflows sync them.
        const moving = new Set(entries.filter((e) => e.documentType !== 'Invoice').map((e) => e.customerNumber));
        const numbers = [
          ...fresh.filter((e) => e.documentType === 'Invoice' && moving.has(e.customerNumber)).map((e) => e.documentNumber),
          ...input.retry.map((r) => r.invoiceNumber),
        ];
        const newestModified = entries.reduce<string | null>((m, e) => (m === null || Date.parse(e.lastModifiedDateTime) > Date.parse(m) ? e.lastModifiedDateTime : m), null);
        const { jobs, rows } = await jobsFor(numbers, entries, { companyId: input.companyId, mode: 'watch' });
        const res = await runJobs(jobs);
        const all = [...rows, ...res.rows];
        const retry = all
          .filter((r) => r.status === 'deferred' || r.status === 'failed')
          .filter((r) => r.customerNumber !== '')
          .map((r) => ({ invoiceNumber: r.invoiceNumber, customerNumber: r.customerNumber }));
        return { ...res, rows: all, newestModified, entriesRead: fresh.length, retry, seen: entries.map(ledgerKey) };
      });
    },

    /** Invoices whose ledger entry changed since `sinceIso`: the invoices "updated with new payment info" (seed 001). */
    async listTouchedInvoices(input: { sinceIso: string }): Promise<TouchedInvoice[]> {
      return classified(async () => {
        const entries = await bc.listCustomerLedgerEntriesSince(input.sinceIso, { documentType: 'Invoice' });
        const seen = new Map<string, TouchedInvoice>();
        for (const e of entries.sort((a, b) => a.entryNumber - b.entryNumber)) seen.set(e.documentNumber, { invoiceNumber: e.documentNumber, customerNumber: e.customerNumber });
        return [...seen.values()];
      });
    },

    /**
     * Brings a batch of invoices in line (window sync, drift sweep, the unsynced-applications list and sync). Credit entries
     * modified since `creditsSinceIso` are the ERP applications to attribute.
     */
    async mirrorInvoices(input: {
      companyId: string;
      invoiceNumbers: string[];
      mode: Exclude<MirrorMode, 'watch'>;
      creditsSinceIso: string;
      onlyEntries?: number[];
      retryUnpostedOlderThanMs?: number;
    }): Promise<MirrorBatchResult> {
      return classified(async () => {
        const ledger = await bc.listCustomerLedgerEntriesSince(input.creditsSinceIso);
        const { jobs, rows } = await jobsFor(input.invoiceNumbers, ledger, {
          companyId: input.companyId,
          mode: input.mode,
          onlyEntries: input.onlyEntries,
          retryUnpostedOlderThanMs: input.retryUnpostedOlderThanMs,
        });
        const res = await runJobs(jobs);
        return { ...res, rows: [...rows, ...res.rows] };
      });
    },

    /**
     * What the drift sweep compares: ERP invoices still open, those changed since `modifiedSinceIso` (a payment in full
     * closes them), those whose ledger entry changed, and every invoice workflow still running.
     */
    /** The sweep's invoices by number (drift sweeps started before `listSweepInvoiceCustomers`). */
    async listSweepInvoices(input: { companyId: string; modifiedSinceIso: string }): Promise<string[]> {
      return classified(async () => (await sweepInvoices(input)).map((t) => t.invoiceNumber));
    },

    /** The sweep's invoices with their customers, so that a customer's invoices are mirrored in one batch. */
    async listSweepInvoiceCustomers(input: { companyId: string; modifiedSinceIso: string }): Promise<TouchedInvoice[]> {
      return classified(() => sweepInvoices(input));
    },

    /**
     * Running invoice workflows whose indexed amount due (AmountDue) is not what the ERP has now: a notification they
     * missed. The drift sweep wakes them to read both sides, in place of a daily timer on every invoice.
     */
    async staleInvoices(input: { companyId: string; erpRemaining: Record<string, number> }): Promise<StaleInvoice[]> {
      const out: StaleInvoice[] = [];
      for await (const wf of deps.temporal.client.workflow.list({ query: runningInvoicesQuery(input.companyId, []) })) {
        const number = wf.typedSearchAttributes.get(InvoiceNumber);
        const indexed = wf.typedSearchAttributes.get(AmountDue);
        const erp = number === undefined || !Object.hasOwn(input.erpRemaining, number) ? undefined : input.erpRemaining[number];
        if (number !== undefined && indexed !== undefined && erp !== undefined && indexed !== erp) out.push({ invoiceNumber: number, indexedMinor: indexed, erpRemainingMinor: erp });
      }
      return out;
    },

    /** Invoice workflows running with AttentionReason=drift (the sweep clears the ones back in line). */
    async invoicesWithDriftAttention(input: { companyId: string }): Promise<string[]> {
      return runningInvoices(input.companyId, [`AttentionReason = 'drift'`]);
    },

    /** The last successful window sync, kept durably by the company's ERP watcher. */
    async lastWindowSyncMs(input: { companyId: string }): Promise<number | null> {
      try {
        const state = await deps.temporal.client.workflow.getHandle(erpWatcherWorkflowId(input.companyId)).query(erpWatcherStateQuery);
        return state.lastWindowSync?.atMs ?? null;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) {
          throw permanent('arsync:no_erp_watcher', `the ERP watcher of company ${input.companyId} is not running, so the last successful run is unknown: choose a window or a date`);
        }
        throw err;
      }
    },
  };

  /**
   * This company's running invoice workflows on our task queue: the company is part of the workflow id, and another
   * company's invoice may carry the same number (and its own ERP amounts).
   */
  function runningInvoicesQuery(companyId: string, extra: string[]): string {
    return [
      `WorkflowType = 'invoiceLifecycle'`,
      `ExecutionStatus = 'Running'`,
      `TaskQueue = ${literal(deps.temporal.taskQueue)}`,
      `WorkflowId STARTS_WITH ${literal(invoiceWorkflowId(companyId, ''))}`,
      ...extra,
    ].join(' AND ');
  }
  /**
   * Open invoices, invoices changed since the sweep's start (paid ones included: a payment may be unapplied later), and
   * running invoice workflows; sorted by number, each with its customer ('' for a running one the ERP lists nowhere).
   */
  async function sweepInvoices(input: { companyId: string; modifiedSinceIso: string }): Promise<TouchedInvoice[]> {
    const customers = new Map<string, string>();
    const add = (invoiceNumber: string, customerNumber: string) => {
      if (!customers.get(invoiceNumber)) customers.set(invoiceNumber, customerNumber);
    };
    for (const inv of await bc.listSalesInvoices({ status: 'Open', lines: false })) add(inv.number, inv.customerNumber);
    for (const inv of await bc.listSalesInvoices({ modifiedSince: input.modifiedSinceIso, lines: false })) {
      if (erpStatus(inv) === 'open' || erpStatus(inv) === 'paid') add(inv.number, inv.customerNumber);
    }
    for (const e of await bc.listCustomerLedgerEntriesSince(input.modifiedSinceIso, { documentType: 'Invoice' })) add(e.documentNumber, e.customerNumber);
    for (const n of await runningInvoices(input.companyId, [])) add(n, '');
    return [...customers.keys()].sort().map((invoiceNumber) => ({ invoiceNumber, customerNumber: customers.get(invoiceNumber)! }));
  }

  async function runningInvoices(companyId: string, extra: string[]): Promise<string[]> {
    const prefix = invoiceWorkflowId(companyId, '');
    const out: string[] = [];
    for await (const wf of deps.temporal.client.workflow.list({ query: runningInvoicesQuery(companyId, extra) })) {
      out.push(wf.typedSearchAttributes.get(InvoiceNumber) ?? wf.workflowId.slice(prefix.length));
    }
    return out;
  }
}

/** An entry as of one modification: `<entry number>@<lastModifiedDateTime>`. */
export function ledgerKey(e: Pick<BcLedgerEntry, 'entryNumber' | 'lastModifiedDateTime'>): string {
  return `${e.entryNumber}@${e.lastModifiedDateTime}`;
}

function statusOf(
  decision: MirrorDecision,
  o: { recordedMinor: number; removedMinor: number; unresolvedMinor: number },
  retried: number,
  currency: string,
): Pick<MirrorRow, 'status' | 'detail'> {
  const money = (minor: number) => formatAmount(minor, currency);
  switch (decision.kind) {
    case 'in_sync':
      return retried > 0 ? { status: 'changed', detail: `in line once ${retried} portal payment(s) not yet posted reach the ERP: retried` } : { status: 'already_right', detail: 'balances agree' };
    case 'deferred':
      return { status: 'deferred', detail: decision.detail };
    case 'report':
      return { status: 'drift', detail: `${decision.reason}: ${decision.detail}` };
    case 'heal_portal':
    case 'heal_erp': {
      const done = o.recordedMinor + o.removedMinor;
      const what = decision.kind === 'heal_portal' ? 'the ERP shows more paid than the portal' : 'the portal shows more paid than the ERP';
      if (o.unresolvedMinor === 0) return { status: 'changed', detail: `${what}: ${decision.kind === 'heal_portal' ? 'recorded' : 'reduced'} ${money(done)}` };
      return {
        status: 'drift',
        detail: `${what} by ${money(decision.amountMinor)}; ${done > 0 ? `${money(done)} brought in line, ` : ''}${money(o.unresolvedMinor)} not explained by ERP entries arsync can attribute`,
      };
    }
  }
}

function applicationOf(r: PlannedRecord, customerNumber: string, currency: string, portalPaymentId: string | null, action?: 'recorded' | 'deleted' | 'refunded'): ErpApplicationRow {
  return {
    kind: 'application',
    entryNumber: r.entryNumber,
    reference: r.reference,
    customerNumber,
    documentType: r.credit?.documentType ?? 'Invoice',
    documentNumber: r.credit?.documentNumber ?? r.allocations[0].invoiceNumber,
    postingDate: r.date,
    currency,
    amountMinor: r.amountMinor,
    invoices: r.allocations,
    portalPaymentId,
    action,
  };
}

function removalOf(r: PlannedRemoval, customerNumber: string, currency: string, today: string, action?: 'recorded' | 'deleted' | 'refunded'): ErpApplicationRow {
  return {
    kind: 'unapplication',
    entryNumber: r.entryNumber,
    reference: r.reference,
    customerNumber,
    documentType: 'Unapplication',
    documentNumber: r.reference,
    postingDate: today,
    currency,
    amountMinor: r.amountMinor,
    invoices: r.allocations,
    portalPaymentId: r.paymentId,
    action,
  };
}

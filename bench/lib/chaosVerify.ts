import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { generalDocumentNumber } from '../../src/adapters/businessCentral/cashReceipt';
import { parseDecimal } from '../../src/domain/money';
import { ROUNDING_LABEL } from '../../src/domain/taxRounding';
import { AttentionReason, Stage } from '../../src/temporal/searchAttributes';
import { invoiceWorkflowId } from '../../workflows/ids';
import { gatewayFeeLinesMinor } from '../../activities/portal';
import { onDeploymentQueues } from '../../src/temporal/taskQueues';
import { invoiceStateQuery } from '../../workflows/invoiceMessages';
import type { BenchStack } from './stack';
import { forEachLimit, sleep } from './stats';

// After the storm: every portal payment posted exactly once (by external document number), both systems agree on
// every invoice's balance, and every workflow is finished or waiting for a stated reason.

export interface MadePayment {
  paymentId: string;
  invoiceNumber: string;
  amount: string;
  method: 'card' | 'bank';
}

export interface Verdict {
  payments: number;
  postedOnce: number;
  /** No ERP posting and no workflow holding it with a reason. */
  lost: string[];
  /** More than one ERP posting (customer ledger document, or fee G/L line) for one portal payment. */
  duplicated: string[];
  /** Waiting for finance or skipped, with the reason the workflow gives. */
  parked: Array<{ paymentId: string; stage: string; reason: string | null }>;
  invoices: number;
  balanceMismatches: Array<{ invoiceNumber: string; erpRemaining: number; portalBalance: number; diagnosis?: unknown }>;
  /** Portal invoices whose total (without gateway fee lines) differs from the ERP total. */
  totalMismatches: Array<{ invoiceNumber: string; erpTotal: number; portalTotal: number }>;
  /** Portal invoices with a Rounding line (the float-arithmetic portal's corrected ones among them). */
  withRoundingLine: number;
  /** ERP invoices that exist more than once in the portal. */
  duplicatePortalInvoices: string[];
  /** Workflows failed, terminated, still running without a reason, or retrying an activity that failed after the storm. */
  stuck: Array<{ workflowId: string; why: string; diagnosis?: unknown }>;
  /** Activities on a fifth or later attempt running again, or due again after an attempt started in the storm. */
  retryingStormFailures: Array<{ workflowId: string; activity: string; attempt: number; state: string }>;
}

/** Retries a read through the storm's leftovers (an API answer lost to an injected fault is not a finding). */
export async function retrying<T>(fn: () => Promise<T>, what: string, attempts = 40): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await fn();
    } catch (err) {
      last = err;
      await sleep(250 + i * 100);
    }
  }
  throw new Error(`${what}: ${(last as Error)?.message ?? String(last)}`);
}

const timestampMs = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number | null =>
  t?.seconds == null ? null : Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);

/** `calmSinceMs`: when the faults went off and the worker ran again (the end of the storm). */
export async function verify(stack: BenchStack, made: MadePayment[], invoiceNumbers: string[], calmSinceMs: number): Promise<Verdict> {
  const client: Client = stack.client;
  const portal = stack.deps.portals.client('default');

  // ERP customer ledger: Payment entries by external document number.
  const byExt = new Map<string, Set<string>>();
  for (const e of stack.bc.admin.listLedgerEntries()) {
    if (e.documentType !== 'Payment' || !e.externalDocumentNumber) continue;
    const docs = byExt.get(e.externalDocumentNumber) ?? new Set<string>();
    docs.add(e.documentNumber);
    byExt.set(e.externalDocumentNumber, docs);
  }

  // Payment workflows: stage and reason, for what the ERP does not show.
  const paymentRows = new Map<string, { status: string; stage: string | null; reason: string | null }>();
  for await (const wf of client.workflow.list({ query: `WorkflowType = 'portalPayment'` })) {
    const id = wf.workflowId.split(':').slice(2).join(':');
    paymentRows.set(id, { status: wf.status.name, stage: wf.typedSearchAttributes.get(Stage) ?? null, reason: wf.typedSearchAttributes.get(AttentionReason) ?? null });
  }

  const verdict: Verdict = {
    payments: made.length,
    postedOnce: 0,
    lost: [],
    duplicated: [],
    parked: [],
    invoices: invoiceNumbers.length,
    balanceMismatches: [],
    totalMismatches: [],
    withRoundingLine: 0,
    duplicatePortalInvoices: [],
    stuck: [],
    retryingStormFailures: [],
  };
  await forEachLimit(made, 8, async (p) => {
    const docs = byExt.get(p.paymentId);
    const feeLines = (await retrying(() => stack.deps.bc.findGeneralLedgerEntries(generalDocumentNumber(p.paymentId)), `G/L entries of ${p.paymentId}`)).filter(
      (e) => e.accountNumber === stack.config.settings.payments.feeAccountNo,
    );
    if (docs && docs.size === 1 && feeLines.length <= 1) verdict.postedOnce++;
    else if (docs && (docs.size > 1 || feeLines.length > 1)) verdict.duplicated.push(p.paymentId);
    else {
      const row = paymentRows.get(p.paymentId);
      if (row && (row.stage === 'needs_attention' || row.stage === 'skipped') && row.reason) verdict.parked.push({ paymentId: p.paymentId, stage: row.stage, reason: row.reason });
      else verdict.lost.push(p.paymentId);
    }
  });

  // Balances, and one portal invoice per ERP invoice.
  const counts = new Map<string, number>();
  for (const inv of await retrying(() => portal.listInvoicesUpdatedSince(0), 'portal invoices')) counts.set(inv.number, (counts.get(inv.number) ?? 0) + 1);
  await forEachLimit(invoiceNumbers, 8, async (n) => {
    if ((counts.get(n) ?? 0) > 1) verdict.duplicatePortalInvoices.push(n);
    const erp = stack.bc.admin.getInvoice(n);
    const inv = await retrying(async () => {
      const found = await portal.findInvoiceByNumber(n);
      if (!found) throw new Error(`invoice ${n} is not in the portal`);
      return found;
    }, `portal invoice ${n}`);
    const erpTotal = parseDecimal(erp.totalIncludingTax, erp.currencyCode);
    const portalTotal = inv.amount.minor - gatewayFeeLinesMinor(inv);
    if (erpTotal !== portalTotal) verdict.totalMismatches.push({ invoiceNumber: n, erpTotal, portalTotal });
    if (inv.lines.some((l) => l.productKey === ROUNDING_LABEL)) verdict.withRoundingLine++;
    const erpRemaining = parseDecimal(erp.remaining, erp.currencyCode);
    if (erpRemaining !== inv.balance.minor) verdict.balanceMismatches.push({ invoiceNumber: n, erpRemaining, portalBalance: inv.balance.minor, diagnosis: await diagnose(stack, n) });
  });

  // Workflows: ended badly, or running without a reason.
  const paidInErp = paidInFullInErp(stack, invoiceNumbers);
  const running: string[] = [];
  for await (const wf of client.workflow.list({ query: onDeploymentQueues(stack.taskQueue) })) {
    const status = wf.status.name;
    const stage = wf.typedSearchAttributes.get(Stage) ?? null;
    const reason = wf.typedSearchAttributes.get(AttentionReason) ?? null;
    if (status === 'FAILED' || status === 'TERMINATED' || status === 'TIMED_OUT') {
      verdict.stuck.push({ workflowId: wf.workflowId, why: `ended ${status}` });
      continue;
    }
    if (status !== 'RUNNING') continue;
    running.push(wf.workflowId);
    if (wf.type === 'portalPayment' && !(stage === 'needs_attention' && reason)) verdict.stuck.push({ workflowId: wf.workflowId, why: `payment still running at stage ${stage} without a reason` });
    if (wf.type === 'invoiceLifecycle') {
      const number = paidInErp.get(wf.workflowId);
      if (stage === 'needs_attention' && !reason) verdict.stuck.push({ workflowId: wf.workflowId, why: 'needs_attention without a reason' });
      else if (number) verdict.stuck.push({ workflowId: wf.workflowId, why: `paid in full in the ERP, workflow still at ${stage}`, diagnosis: await diagnose(stack, number) });
    }
  }
  await forEachLimit(running, 8, async (id) => {
    const d = await client.workflow.getHandle(id).describe();
    for (const a of d.raw.pendingActivities ?? []) {
      if ((a.attempt ?? 0) < 5) continue;
      // Kills and injected faults fail attempts by design: an activity is stuck when an attempt started after the
      // storm failed too. One waiting for its next attempt names the failed one's start; one running is not stuck
      // (a failure timed out after the storm, say 10 s after the last kill, may still be the storm's).
      const scheduled = a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED;
      const failedStartMs = timestampMs(a.lastStartedTime);
      const name = a.activityType?.name ?? '?';
      if (!scheduled || (failedStartMs !== null && failedStartMs < calmSinceMs)) {
        const state = temporal.api.enums.v1.PendingActivityState[a.state ?? 0] ?? String(a.state);
        verdict.retryingStormFailures.push({ workflowId: id, activity: name, attempt: a.attempt ?? 0, state });
      } else {
        verdict.stuck.push({ workflowId: id, why: `${name} retrying (attempt ${a.attempt}): ${a.lastFailure?.message ?? ''}` });
      }
    }
  });
  return verdict;
}

/** The invoices the ERP sandbox has paid in full, by their invoice workflow's id. */
export function paidInFullInErp(stack: BenchStack, invoiceNumbers: readonly string[]): Map<string, string> {
  const paid = invoiceNumbers.filter((n) => parseDecimal(stack.bc.admin.getInvoice(n).remaining, 'USD') === 0);
  return new Map(paid.map((n) => [invoiceWorkflowId(stack.ops.companyId, n), n]));
}

/** What both systems and the invoice's workflow say about one invoice the verdict found in disagreement. */
async function diagnose(stack: BenchStack, invoiceNumber: string): Promise<unknown> {
  const portal = stack.deps.portals.client('default');
  const erp = stack.bc.admin.getInvoice(invoiceNumber);
  const out: Record<string, unknown> = { erp: { total: erp.totalIncludingTax, remaining: erp.remaining, status: erp.status } };
  // The invoice's own entry and every entry applied to it.
  const invoiceEntries = new Set(stack.bc.admin.listLedgerEntries({ documentNumber: invoiceNumber }).map((e) => e.entryNumber));
  const appliedToIt = new Set(stack.bc.admin.listApplications().filter((a) => !a.unapplied && invoiceEntries.has(a.invoiceEntryNumber)).map((a) => a.creditEntryNumber));
  out.erpEntries = stack.bc.admin
    .listLedgerEntries({ customerNumber: erp.customerNumber })
    .filter((e) => invoiceEntries.has(e.entryNumber) || appliedToIt.has(e.entryNumber))
    .map((e) => ({ type: e.documentType, doc: e.documentNumber, ext: e.externalDocumentNumber, amount: e.amount, remaining: e.remaining }));
  try {
    const inv = await portal.findInvoiceByNumber(invoiceNumber);
    if (inv) {
      out.portal = { id: inv.id, amount: inv.amount.minor, balance: inv.balance.minor, paidToDate: inv.paidToDate.minor, status: inv.status, lines: inv.lines.length };
      out.portalPayments = (await portal.listClientPayments(inv.clientId))
        .filter((p) => p.invoices.some((i) => i.invoiceId === inv.id))
        .map((p) => ({ id: p.id, amount: p.amount.minor, applied: p.invoices.filter((i) => i.invoiceId === inv.id).map((i) => i.amount.minor), refunded: p.refunded.minor, status: p.status, deleted: p.isDeleted, ref: p.transactionReference, manual: p.isManual }));
    }
  } catch (err) {
    out.portalError = String(err);
  }
  try {
    const st = await stack.client.workflow.getHandle(invoiceWorkflowId(stack.ops.companyId, invoiceNumber)).query(invoiceStateQuery);
    out.workflow = { stage: st.stage, attention: st.attention, timeline: st.timeline };
  } catch (err) {
    out.workflowError = String(err);
  }
  return out;
}

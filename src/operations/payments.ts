import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { paymentWorkflowId } from '../../workflows/ids';
import { paymentStateQuery, repostDecision, resolvePayment, type PaymentState, type portalPayment, type RepostDecision, type Resolution } from '../../workflows/portalPayment';
import type { PaymentStage } from '../domain/stages';
import { AttentionReason, Currency, InvoiceNumber, InvoiceNumbers, PaymentAmount, PortalPaymentId, Stage } from '../temporal/searchAttributes';
import { observePayment, repostPayment } from '../temporal/starters';
import { bounded, executeUpdateOnce, notFoundOrEnded, OperationError, type OpsContext } from './context';
import { listCurrentRuns, literal, stageClauses, stagedRow } from './visibility';

export interface StagedPaymentRow {
  workflowId: string;
  runId: string;
  status: string;
  paymentId: string | null;
  stage: string | null;
  attentionReason: string | null;
  customerNumber: string | null;
  /** The invoices, comma-separated. */
  invoiceNumbers: string | null;
  /** The payment's amount as the portal has it, minor units; null for a run indexed before it was (or not read yet). */
  amountMinor: number | null;
  currency: string | null;
  startTime: string;
}

export interface PaymentFilter {
  stage?: PaymentStage | string;
  /** Only running payments waiting in needs_attention. */
  attention?: boolean;
  customerNumber?: string;
  /** Only payments of this invoice, alone or with others. */
  invoiceNumber?: string;
  /**
   * Only payments whose run ended (completed) with a reason (skipped `closed_invoice`, posted `over_cap`, …) and that no
   * later run replaced (a re-post, a retry): what finance may re-post with `resolve`.
   */
  ended?: boolean;
  limit?: number;
}

/** A completed run that kept an attention reason (the current runs among them are listed, `listCurrentRuns`). */
const ENDED_WITH_REASON = [`ExecutionStatus = 'Completed'`, `${AttentionReason.name} IS NOT NULL`];

/**
 * A payment of this invoice: one of the invoices it touches (`InvoiceNumbers`), or, for a run indexed before that
 * attribute was, the whole of its `InvoiceNumber` (a payment of that invoice alone).
 */
const paymentOfInvoice = (invoiceNumber: string): string =>
  `(${InvoiceNumbers.name} = ${literal(invoiceNumber)} OR ${InvoiceNumber.name} = ${literal(invoiceNumber)})`;

/** The visibility clauses of a payment list. */
export const paymentClauses = (filter: PaymentFilter): string[] => [
  `WorkflowType = 'portalPayment'`,
  ...stageClauses(filter),
  ...(filter.invoiceNumber ? [paymentOfInvoice(filter.invoiceNumber)] : []),
  ...(filter.ended ? ENDED_WITH_REASON : []),
];

/** The Payment Staging list: visibility query over payment workflows, newest first. */

export async function listPayments(ctx: OpsContext, filter: PaymentFilter = {}): Promise<StagedPaymentRow[]> {
  const rows = await listCurrentRuns(ctx, paymentClauses(filter), filter.limit);
  return rows.map((wf) => {
    const sa = wf.typedSearchAttributes;
    const listed = sa.get(InvoiceNumbers);
    return {
      ...stagedRow(wf),
      paymentId: sa.get(PortalPaymentId) ?? null,
      invoiceNumbers: listed?.length ? listed.join(',') : (sa.get(InvoiceNumber) ?? null),
      amountMinor: sa.get(PaymentAmount) ?? null,
      currency: sa.get(Currency) ?? null,
    };
  });
}

const handle = (ctx: OpsContext, connectionKey: string, paymentId: string) =>
  ctx.client.workflow.getHandle(paymentWorkflowId(connectionKey, paymentId));

/** Runs a call on a payment's workflow, turning "no such workflow", a rejected update and a missed deadline into caller errors. */
async function call<T>(ctx: OpsContext, connectionKey: string, paymentId: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await bounded(ctx, `portal payment ${paymentId}`, fn);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      const id = paymentWorkflowId(connectionKey, paymentId);
      throw await notFoundOrEnded(ctx, id, `portal payment ${paymentId}`, `portal payment ${paymentId} (connection ${connectionKey}) is not staged`);
    }
    if (err instanceof WorkflowUpdateFailedError) throw new OperationError(String(err.cause?.message ?? err.message), 409);
    throw err;
  }
}

export const paymentState = (ctx: OpsContext, connectionKey: string, paymentId: string): Promise<PaymentState> =>
  call(ctx, connectionKey, paymentId, () => handle(ctx, connectionKey, paymentId).query(paymentStateQuery));

/**
 * Finance's decision for a payment. A running payment takes it by Update (the workflow's validator refuses what does not
 * fit: a payment not waiting for a decision, an action its reason does not allow). A payment whose run has ended with a
 * reason (skipped `closed_invoice`, posted `over_cap`, …) is re-posted: a new run carries the decision (`repost`).
 */
export async function resolve(ctx: OpsContext, connectionKey: string, paymentId: string, resolution: Resolution): Promise<PaymentState> {
  try {
    return await bounded(ctx, `portal payment ${paymentId}`, () =>
      executeUpdateOnce((updateId) => handle(ctx, connectionKey, paymentId).executeUpdate(resolvePayment, { args: [resolution], updateId })),
    );
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw new OperationError(String(err.cause?.message ?? err.message), 409);
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  return repost(ctx, connectionKey, paymentId, resolution);
}

/**
 * Re-posts a payment whose run ended with a reason: a new run of it carries finance's decision (who and why in its
 * input, so in its history, and first in its decisions), read and planned as any run (so a payment the ERP has is never
 * posted again). Refused (409) when a run is open again (decide there), when the run ended with no reason, failed or
 * was terminated, or when its reason does not allow the action (`validateRepost`). Returns the new run's state.
 */
export async function repost(ctx: OpsContext, connectionKey: string, paymentId: string, resolution: Resolution): Promise<PaymentState> {
  const what = `portal payment ${paymentId}`;
  const running = () =>
    new OperationError(`${what} is running again (a new observation or another re-post started it): resolve it there once it waits for a decision`, 409);
  const run = await call(ctx, connectionKey, paymentId, () => handle(ctx, connectionKey, paymentId).describe());
  if (run.status.name === 'RUNNING') throw running();
  if (run.status.name !== 'COMPLETED') {
    throw new OperationError(`${what} has ended (${run.status.name.toLowerCase()}) with no state to decide on; payment retry starts a new run`, 409);
  }
  const ended = await bounded(ctx, what, () => ctx.client.workflow.getHandle<typeof portalPayment>(run.workflowId, run.runId).result());
  let decision: RepostDecision;
  try {
    decision = repostDecision(ended, run.runId, resolution);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new OperationError(message, /is required$/.test(message) ? 400 : 409);
  }
  const started = await bounded(ctx, `re-posting ${what}`, () => repostPayment(ctx, ctx.companyId, connectionKey, paymentId, decision));
  if (!started) throw running();
  return bounded(ctx, what, () => started.query(paymentStateQuery));
}

/**
 * Retry or re-post by hand: observe the payment again (a finished payment gets a new run that re-reads both systems).
 * Only a payment arsync has staged can be retried, so a mistyped id does not create a workflow. Who asked and why travel
 * in the observation, so the decision is in the workflow history. A payment waiting for a finance decision is refused
 * (409): only a decision wakes it, so an observation would be answered and do nothing.
 */
export async function retry(ctx: OpsContext, connectionKey: string, paymentId: string, audit?: { by: string; why: string }) {
  const run = await call(ctx, connectionKey, paymentId, () => handle(ctx, connectionKey, paymentId).describe());
  // The stage as the run indexed it: needs_attention is indexed when the wait starts, and read without a worker.
  if (run.status.name === 'RUNNING' && run.typedSearchAttributes.get(Stage) === 'needs_attention') {
    const reason = run.typedSearchAttributes.get(AttentionReason) ?? 'needs_attention';
    throw new OperationError(
      `portal payment ${paymentId} is waiting for a finance decision (${reason}); use resolve --action retry, or another action ${reason} allows`,
      409,
    );
  }
  const event = audit ? `manual retry by ${audit.by}: ${audit.why}` : 'manual retry';
  const h = await bounded(ctx, `retrying portal payment ${paymentId}`, () =>
    observePayment(ctx, ctx.companyId, connectionKey, paymentId, { source: 'manual', updatedAt: Math.floor(Date.now() / 1000), event }),
  );
  return { workflowId: h.workflowId };
}

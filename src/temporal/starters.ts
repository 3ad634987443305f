import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { customer, CUSTOMER_WORKFLOW_REVISION, type CustomerInput } from '../../workflows/customer';
import { INVOICE_WORKFLOW_REVISION, invoiceLifecycle, type InvoiceLifecycleInput } from '../../workflows/invoiceLifecycle';
import { PAYMENT_WORKFLOW_REVISION, paymentObserved, portalPayment, type PaymentObservation, type RepostDecision } from '../../workflows/portalPayment';
import { customerWorkflowId, invoiceWorkflowId, paymentWorkflowId } from '../../workflows/ids';
import { erpInvoiceChangedSignal } from '../../workflows/invoiceMessages';
import type { InvoiceState } from '../../workflows/invoiceTypes';
import { CustomerNumber, InvoiceNumber, PortalPaymentId, Stage } from './searchAttributes';

// How the API, the CLI and the activities start or reach the entity workflows. Every start is keyed by a business id,
// so starting twice is harmless.

export interface Target {
  client: Client;
  taskQueue: string;
}

/** accepted: the workflow runs now (newly started or already running); completed: it already ran to the end. */
export type StartOutcome = 'accepted' | 'completed';

/**
 * Starts the invoice's workflow unless it runs (or ran to completion) already. `again` starts a fresh run of an ended
 * one (after a reset by hand, or reopened by the ERP), `carry` hands it the ended run's state and the reset or reopening
 * to record. A run already running is kept (USE_EXISTING), so two callers starting the same invoice again at once make
 * one run.
 */
export async function startInvoice(
  t: Target,
  companyId: string,
  invoiceNumber: string,
  opts: { again?: boolean; customerNumber?: string; erpPosted?: true; carry?: Pick<InvoiceLifecycleInput, 'state' | 'reset' | 'reopen'> } = {},
): Promise<StartOutcome> {
  const workflowId = invoiceWorkflowId(companyId, invoiceNumber);
  const customerNumber = opts.customerNumber ?? opts.carry?.state?.customerNumber ?? undefined;
  try {
    await t.client.workflow.start(invoiceLifecycle, {
      taskQueue: t.taskQueue,
      workflowId,
      args: [
        {
          companyId,
          invoiceNumber,
          revision: INVOICE_WORKFLOW_REVISION,
          ...(customerNumber ? { customerNumber } : {}),
          ...(opts.erpPosted ? { erpPosted: true as const } : {}),
          ...opts.carry,
        },
      ],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowIdReusePolicy: opts.again ? WorkflowIdReusePolicy.ALLOW_DUPLICATE : WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: [
        { key: InvoiceNumber, value: invoiceNumber },
        { key: Stage, value: 'syncing' },
        ...(customerNumber ? [{ key: CustomerNumber, value: customerNumber }] : []),
      ],
    });
    return 'accepted';
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'completed';
    throw err;
  }
}

/** What `reopenEndedInvoice` found and did. */
export type ReopenOutcome =
  /** The run had ended at posted: a new one runs now, carrying its state (or another caller's, started a moment before). */
  | 'reopened'
  /** The invoice's workflow is running (signalled `erpInvoiceChanged` when `wake` asked for it). */
  | 'running'
  /** Ended for good (cancelled), or ended otherwise than completed (terminated, failed: the operator's reset): left. */
  | 'ended'
  /** No workflow for this invoice. */
  | 'unknown';

/** An ended run that the ERP can reopen: it completed at posted (a cancelled invoice stays cancelled). */
function reopenable(ended: Pick<InvoiceState, 'stage' | 'cancelled'>): boolean {
  return !ended.cancelled && ended.stage === 'posted';
}

/**
 * The ERP changed an invoice after its workflow ended at posted (a payment unapplied: money due again; credited or
 * cancelled while its portal invoice is open): a new run starts carrying the ended run's state, records `why` and goes on
 * from what both sides say now (the due stage, or the cancel). The caller has decided the ERP change calls for it; this
 * only starts a run when the latest one completed at posted, never for a cancelled invoice nor a terminated or failed run.
 * Idempotent: a new run starts only when none runs (ALLOW_DUPLICATE + USE_EXISTING), so duplicate notifications, the
 * ERP watcher and the drift sweep at once make one run. `wake`: a running workflow is signalled to read both sides.
 */
export async function reopenEndedInvoice(t: Target, companyId: string, invoiceNumber: string, why: string, opts: { wake?: boolean } = {}): Promise<ReopenOutcome> {
  const workflowId = invoiceWorkflowId(companyId, invoiceNumber);
  // Twice at most: a run that ends between the look and the signal is looked at again, as ended.
  for (let attempt = 0; attempt < 2; attempt++) {
    let described;
    try {
      described = await t.client.workflow.getHandle(workflowId).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return 'unknown';
      throw err;
    }
    if (described.status.name === 'RUNNING') {
      if (!opts.wake) return 'running';
      try {
        await t.client.workflow.getHandle(workflowId, described.runId).signal(erpInvoiceChangedSignal, { reason: why });
        return 'running';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) continue;
        throw err;
      }
    }
    if (described.status.name !== 'COMPLETED') return 'ended';
    // That run's result (by its run id: a run started meanwhile is not waited for).
    const ended = (await t.client.workflow.getHandle(workflowId, described.runId, { followRuns: false }).result()) as InvoiceState;
    if (!reopenable(ended)) return 'ended';
    // Another caller may have reopened it while the result was read, and that run may have ended already (cancelled,
    // or posted again): a start now would carry stale state over it. Only the run described is reopened.
    const latest = await t.client.workflow.getHandle(workflowId).describe();
    if (latest.runId !== described.runId) {
      if (latest.status.name === 'RUNNING') return 'running';
      continue;
    }
    await startInvoice(t, companyId, invoiceNumber, { again: true, carry: { state: ended, reopen: { why } } });
    return 'reopened';
  }
  return 'ended';
}

/**
 * Signal-with-start of a portal payment's workflow: the poller and the webhook both come through here. A creation or
 * poll a finished run already covered (the poller catching up with a webhook, a repeated create_payment) starts no new
 * run; one that cannot be checked does.
 */
export async function observePayment(
  t: Target,
  companyId: string,
  connectionKey: string,
  paymentId: string,
  observation: PaymentObservation,
): Promise<WorkflowHandle<typeof portalPayment>> {
  const workflowId = paymentWorkflowId(connectionKey, paymentId);
  if (await seenByFinishedRun(t, workflowId, observation)) return t.client.workflow.getHandle(workflowId);
  return t.client.workflow.signalWithStart(portalPayment, {
    taskQueue: t.taskQueue,
    workflowId,
    args: [{ companyId, connectionKey, paymentId, revision: PAYMENT_WORKFLOW_REVISION }],
    signal: paymentObserved,
    signalArgs: [observation],
    typedSearchAttributes: [
      { key: PortalPaymentId, value: paymentId },
      { key: Stage, value: 'staged' },
    ],
  });
}

/**
 * A new run of a payment whose workflow has ended, carrying finance's decision on the ended run (a re-post). Started
 * only if no run is open (conflict policy FAIL): null when one is (a new observation, or another re-post, started it),
 * so a decision never goes to a run that did not take it. A run's ERP read by external document number keeps a payment
 * the ERP has from being posted again, whichever run reads it.
 */
export async function repostPayment(
  t: Target,
  companyId: string,
  connectionKey: string,
  paymentId: string,
  repost: RepostDecision,
): Promise<WorkflowHandle<typeof portalPayment> | null> {
  try {
    return await t.client.workflow.start(portalPayment, {
      taskQueue: t.taskQueue,
      workflowId: paymentWorkflowId(connectionKey, paymentId),
      args: [{ companyId, connectionKey, paymentId, revision: PAYMENT_WORKFLOW_REVISION, repost }],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      typedSearchAttributes: [
        { key: PortalPaymentId, value: paymentId },
        { key: Stage, value: 'staged' },
      ],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return null;
    throw err;
  }
}

/** Update-with-start of a customer's workflow. */
export async function updateCustomer<Ret, Args extends unknown[]>(
  t: Target,
  companyId: string,
  customerNumber: string,
  update: UpdateDefinition<Ret, Args>,
  ...args: Args
): Promise<Ret> {
  const input: CustomerInput = { companyId, customerNumber, revision: CUSTOMER_WORKFLOW_REVISION };
  const startWorkflowOperation = new WithStartWorkflowOperation(customer, {
    taskQueue: t.taskQueue,
    workflowId: customerWorkflowId(companyId, customerNumber),
    args: [input],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    typedSearchAttributes: [{ key: CustomerNumber, value: customerNumber }],
  });
  return t.client.workflow.executeUpdateWithStart(update, { args, startWorkflowOperation });
}

/**
 * Whether the payment's latest run completed after covering this observation. Only creations and polls are skipped:
 * an update or delete event always gets a run (the portal's clock has whole seconds, so a refund in the same second
 * as the run's read would look covered). Manual observations always run.
 */
async function seenByFinishedRun(t: Target, workflowId: string, o: PaymentObservation): Promise<boolean> {
  if (o.source === 'manual' || (o.event && o.event !== 'create_payment')) return false;
  try {
    const handle = t.client.workflow.getHandle<typeof portalPayment>(workflowId);
    if ((await handle.describe()).status.name !== 'COMPLETED') return false;
    const seen = (await handle.result()).seenUpdatedAt;
    return seen !== undefined && o.updatedAt <= seen;
  } catch {
    return false; // not started yet, or not readable now: signal-with-start decides
  }
}

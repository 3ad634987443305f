import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Activities } from '../../activities';
import type { JournalPostRequest } from '../../activities/journalTypes';
import type { PaymentContext } from '../../activities/paymentTypes';
import { journalPosted } from '../../workflows/journalPoster';
import { paymentObserved, portalPayment } from '../../workflows/portalPayment';

// Stand-ins for the payment workflow's activities in time-skipping tests: what the payment's read found, and a journal
// that posts whatever it is asked to (recording each request) and answers the workflow as the journal poster would.

/** The payment settings the ERP invoice lookup answers with (disallow overpayments, fee account 65100). */
export const PAYMENT_SETTINGS = {
  postPaymentsForClosedInvoices: true,
  disallowOverpayments: true,
  feeAccount: '65100',
  journalBatch: 'ARSYNC',
  paymentMethodCode: 'CARD',
  defaultBalancingAccount: '10200',
};

/** A portal payment of client-1 (customer C10000) to INV1, as the payment's read returns it; `over` sets the rest. */
export function portalPaymentContext(over: Partial<PaymentContext> & Pick<PaymentContext, 'amountMinor' | 'erp'>): PaymentContext {
  return {
    paymentId: 'POS1',
    connectionKey: 'default',
    refundedMinor: 0,
    currency: 'USD',
    date: '2026-01-15',
    createdAtMs: 0,
    portalStatus: 'completed',
    origin: 'portal',
    portalClientId: 'client-1',
    customerNumber: 'C10000',
    allocations: [{ invoiceNumber: 'INV1', amountMinor: over.amountMinor, feeMinor: 0 }],
    invoiceNumbers: ['INV1'],
    methodCode: null,
    ...over,
  };
}

/** A journal that posts every request and signals the answer back; `submitted` lists the requests in order. */
export function postingJournal(env: TestWorkflowEnvironment): { submitted: JournalPostRequest[]; activities: Pick<Activities, 'enqueueJournalPosting'> } {
  const submitted: JournalPostRequest[] = [];
  return {
    submitted,
    activities: {
      async enqueueJournalPosting({ request, requestId, replyTo }) {
        submitted.push(request);
        const result = { externalDocumentNumber: request.externalDocumentNumber, status: 'posted' as const, entries: [], invoiceRemaining: {} };
        await env.client.workflow.getHandle(replyTo).signal(journalPosted, { requestId, result });
      },
    },
  };
}

/**
 * A portal payment's run on a worker of its own (the stand-in activities, a task queue of its own), started as the
 * webhook starts it (signal-with-start, one observation); `drive` takes the run from there and says what to keep.
 */
export async function withPaymentRun<T>(
  env: TestWorkflowEnvironment,
  activities: Partial<Activities>,
  run: { taskQueue: string; workflowId?: string; paymentId?: string; revision: number; event?: string },
  drive: (handle: WorkflowHandle<typeof portalPayment>) => Promise<T>,
): Promise<T> {
  const taskQueue = `${run.taskQueue}-${randomUUID()}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: { codePath: process.env.ARSYNC_WORKFLOW_BUNDLE! }, activities });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.signalWithStart(portalPayment, {
      taskQueue,
      workflowId: run.workflowId ?? `payment:default:${run.taskQueue}-${randomUUID()}`,
      args: [{ companyId: 'company', connectionKey: 'default', paymentId: run.paymentId ?? 'POS1', revision: run.revision }],
      signal: paymentObserved,
      signalArgs: [{ source: 'webhook', updatedAt: 1, ...(run.event ? { event: run.event } : {}) }],
    });
    return drive(handle);
  });
}

// Business workflow ids: one workflow per invoice, payment, customer, journal batch and connection. Pure functions so
// the API, CLI, activities and workflows all derive the same id from the same business keys.

export const invoiceWorkflowId = (companyId: string, invoiceNumber: string) => `invoice:${companyId}:${invoiceNumber}`;
export const customerWorkflowId = (companyId: string, customerNumber: string) => `customer:${companyId}:${customerNumber}`;
export const paymentWorkflowId = (connectionKey: string, portalPaymentId: string) => `payment:${connectionKey}:${portalPaymentId}`;
export const journalPosterWorkflowId = (companyId: string, batch: string) => `journal:${companyId}:${batch}`;
export const portalWatcherWorkflowId = (connectionKey: string) => `portal-watcher:${connectionKey}`;
export const erpWatcherWorkflowId = (companyId: string) => `erp-watcher:${companyId}`;
export const bcSubscriptionWorkflowId = (companyId: string, resource: string) => `bc-subscription:${companyId}:${resource}`;

/** The connection key of the default portal connection; posting-group connections use the group code. */
export const DEFAULT_CONNECTION = 'default';
/** Runs started by hand, the API or a schedule: the start instant keeps each run apart in the Temporal UI. */
export const windowSyncWorkflowId = (companyId: string, stamp: string) => `window-sync:${companyId}:${stamp}`;
export const driftSweepWorkflowId = (companyId: string, stamp: string) => `drift-sweep:${companyId}:${stamp}`;
export const erpApplicationsWorkflowId = (companyId: string, mode: 'list' | 'sync' | 'reset', stamp: string) => `erp-applications:${companyId}:${mode}:${stamp}`;
export const windowSyncScheduleId = (companyId: string) => `window-sync:${companyId}`;
export const driftSweepScheduleId = (companyId: string) => `drift-sweep:${companyId}`;

const POSTING_SUFFIX = '-posting';

/**
 * The task queue of the journal poster (workflow and commit activity): served by a worker of its own in the same
 * process (src/worker/createWorker.ts), with a cache of its own, so the one workflow every queued payment waits for
 * never queues behind a backlog of other workflow or activity tasks (after an outage, hundreds of payments at once),
 * nor is evicted by them and replayed from its long history on every task. Idempotent: the posting queue's own
 * posting queue is itself.
 */
export const postingTaskQueue = (taskQueue: string) => (taskQueue.endsWith(POSTING_SUFFIX) ? taskQueue : `${taskQueue}${POSTING_SUFFIX}`);

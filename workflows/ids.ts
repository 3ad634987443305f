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
export const erpApplicationsWorkflowId = (companyId: string, mode: 'list' | 'sync', stamp: string) => `erp-applications:${companyId}:${mode}:${stamp}`;
export const windowSyncScheduleId = (companyId: string) => `window-sync:${companyId}`;
export const driftSweepScheduleId = (companyId: string) => `drift-sweep:${companyId}`;

/**
 * The task queue of the journal poster's commit activity: served by a worker of its own in the same process
 * (src/worker/createWorker.ts), so the one activity every queued payment waits for never queues behind a backlog of
 * other activities (after an outage, hundreds of payment intakes).
 */
export const postingTaskQueue = (taskQueue: string) => `${taskQueue}-posting`;

// Every workflow the worker runs. Workflow code is bundled by webpack and must stay deterministic: import only
// workflow-safe modules (src/domain, message definitions) and activity *types*. The worker's bundle preloads these
// modules once and shares them, frozen, with every run (src/worker/bundle.ts): keep no state at module level.
export * from './systemCheck';
export * from './invoiceLifecycle';
export * from './portalPayment';
export * from './customer';
export * from './journalPoster';
export * from './portalWatcher';
export * from './bcSubscription';
export * from './erpWatcher';
export * from './windowSync';
export * from './driftSweep';
export * from './erpApplications';

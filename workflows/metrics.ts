import { metricMeter } from '@temporalio/workflow';

// Business counters, exported with the worker's Prometheus metrics (`WORKER_METRICS_ADDRESS`). Emitted from workflow
// code, so the SDK sends them when the code first runs and never again on replay: each counts a real change once. Rates
// and totals are the operator's dashboards: payments posted, skipped and parked per reason, invoices per stage, links
// sent per channel.

export function countPaymentStage(stage: string, reason: string | null): void {
  metricMeter.createCounter('arsync_payment_stage_changes', 'changes', 'portal payments entering a stage').add(1, { stage, reason: reason ?? '' });
}

export function countInvoiceStage(stage: string): void {
  metricMeter.createCounter('arsync_invoice_stage_changes', 'changes', 'invoices entering a stage').add(1, { stage });
}

export function countLinkSent(channel: string): void {
  metricMeter.createCounter('arsync_links_sent', 'messages', 'view-and-pay links sent to customers').add(1, { channel });
}

import { getExternalWorkflowHandle } from '@temporalio/workflow';
import type { ErpApplicationNote, MirrorRow, TouchedInvoice } from '../activities/erpMirrorTypes';
import { invoiceWorkflowId } from './ids';
import { erpApplicationSignal } from './invoiceMessages';

// Helpers shared by the window sync, the drift sweep and the applications runs (workflow code, not workflows themselves:
// this module is not exported from workflows/index.ts).

export interface WindowSyncSummary {
  invoices: number;
  changed: number;
  alreadyRight: number;
  notInPortal: number;
  /** Deferred, drift or failed: reported with their reason. */
  notDone: number;
}

export function summariseWindow(rows: readonly MirrorRow[]): WindowSyncSummary {
  return {
    invoices: rows.length,
    changed: rows.filter((r) => r.status === 'changed').length,
    alreadyRight: rows.filter((r) => r.status === 'already_right').length,
    notInPortal: rows.filter((r) => r.status === 'not_in_portal').length,
    notDone: rows.filter((r) => r.status === 'deferred' || r.status === 'drift' || r.status === 'failed').length,
  };
}

/** Counts of two batches added field by field (a run's summary grows a batch at a time, without keeping every row). */
export function addCounts<T extends { [K in keyof T]: number }>(a: T, b: T): T {
  const out = { ...a };
  for (const k of Object.keys(out) as Array<keyof T>) out[k] = (a[k] + b[k]) as T[keyof T];
  return out;
}

/** Invoices of one customer stay in one batch, so one ERP payment over several of them is attributed in one go. */
export function batchesOf(touched: readonly TouchedInvoice[], size: number): string[][] {
  const byCustomer = new Map<string, string[]>();
  for (const t of touched) byCustomer.set(t.customerNumber, [...(byCustomer.get(t.customerNumber) ?? []), t.invoiceNumber]);
  const out: string[][] = [];
  let current: string[] = [];
  for (const numbers of byCustomer.values()) {
    if (current.length > 0 && current.length + numbers.length > size) {
      out.push(current);
      current = [];
    }
    current.push(...numbers);
  }
  if (current.length) out.push(current);
  return out;
}

export async function tellInvoices(companyId: string, notes: readonly ErpApplicationNote[]): Promise<void> {
  for (const n of notes) {
    try {
      await getExternalWorkflowHandle(invoiceWorkflowId(companyId, n.invoiceNumber)).signal(erpApplicationSignal, {
        entryNumber: n.entryNumber,
        amountMinor: n.amountMinor,
        kind: n.kind,
        postedAt: n.postedAt,
        portalPaymentId: n.portalPaymentId,
      });
    } catch {
      // Not running (already posted or cancelled): the portal is in line all the same.
    }
  }
}


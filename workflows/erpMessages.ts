import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ErpApplicationNote, TouchedInvoice } from '../activities/erpMirrorTypes';

// Messages of the ERP watcher (one per company), in their own module so activities, operations and the window sync can
// use them without importing the workflow.

export interface ErpWatcherState {
  companyId: string;
  /** Customer ledger entries modified after this instant (less the overlap) are read next poll. */
  watermark: string;
  polls: number;
  lastPollAt: string | null;
  entriesRead: number;
  /** Portal payments recorded from ERP applications, and reduced for unapplications. */
  recorded: number;
  reduced: number;
  /** The last successful window sync ("Last Successful Run", seed 001): kept here so it survives everything. */
  lastWindowSync: { atMs: number; workflowId: string } | null;
  /** Invoices to look at again (a portal payment still on its way, or a failure), from the watermark they were seen at. */
  retry: Array<TouchedInvoice & { sinceIso: string; attempts: number }>;
  /** Entries read inside the overlap (`<entry>@<lastModifiedDateTime>`), so a re-read does not handle them twice. */
  seen?: string[];
  /** The newest applications told to invoice workflows (bounded). */
  recent: ErpApplicationNote[];
  lastError: string | null;
}

export const erpPollNowSignal = defineSignal('pollNow');
/** From a window sync that completed successfully: its start is the next "last successful run". */
export const windowSyncCompletedSignal = defineSignal<[{ atMs: number; workflowId: string }]>('windowSyncCompleted');
export const erpWatcherStateQuery = defineQuery<ErpWatcherState>('erpWatcherState');

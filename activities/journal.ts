import type { CashReceiptLine } from '../src/adapters/businessCentral';
import { ExternalServiceError } from '../src/adapters/http/errors';
import { updateJournal } from '../src/temporal/starters';
import { postToJournal } from '../workflows/journalPoster';
import type { ActivityDeps } from './deps';
import { classified } from './failures';
import type { JournalPostRequest, JournalPostResult } from './journalTypes';

function toCashReceiptLines(r: JournalPostRequest): CashReceiptLine[] {
  return r.lines.map((l): CashReceiptLine => {
    const amount = { minor: l.amountMinor, currency: l.currency };
    switch (l.kind) {
      case 'applied':
        return { kind: 'applied', customerNumber: l.customerNumber, amount, invoiceNumber: l.invoiceNumber!, description: l.description };
      case 'fee':
        return { kind: 'fee', account: l.account!, amount, description: l.description };
      default:
        return { kind: l.kind, customerNumber: l.customerNumber, amount, description: l.description };
    }
  });
}

export function createJournalActivities(deps: ActivityDeps) {
  return {
    /**
     * Run by the journal poster only (one at a time per batch): posts each queued request idempotently. A permanent
     * ERP rejection answers that request as rejected and goes on with the others; a transient failure fails the
     * activity, and the retry skips what was already posted.
     */
    async postJournalBatch({ batch, requests }: { companyId: string; batch: string; requests: JournalPostRequest[] }): Promise<JournalPostResult[]> {
      const results: JournalPostResult[] = [];
      for (const r of requests) {
        try {
          const res = await deps.bc.postCashReceipt({
            journalCode: batch,
            generalJournalCode: deps.settings.payments.generalJournalBatch,
            externalDocumentNumber: r.externalDocumentNumber,
            postingDate: r.postingDate,
            lines: toCashReceiptLines(r),
          });
          results.push({
            externalDocumentNumber: r.externalDocumentNumber,
            status: res.status,
            entries: res.entries.map((e) => ({ entryNumber: e.entryNumber, documentNumber: e.documentNumber, amountMinor: e.amount.minor, invoiceNumber: null })),
            invoiceRemaining: Object.fromEntries(Object.entries(res.invoiceRemaining).map(([k, v]) => [k, v.minor])),
          });
        } catch (err) {
          if (err instanceof ExternalServiceError && !err.retryable) {
            results.push({ externalDocumentNumber: r.externalDocumentNumber, status: 'rejected', code: err.code ?? String(err.status ?? 'error'), message: err.message });
            continue;
          }
          throw err;
        }
      }
      return results;
    },

    /** Called by payment workflows: hands the posting to the batch's journal poster and waits for its answer. */
    async submitToJournal({ companyId, request }: { companyId: string; request: JournalPostRequest }): Promise<JournalPostResult> {
      return classified(() =>
        updateJournal(deps.temporal, companyId, deps.settings.payments.journalBatch, request.externalDocumentNumber, postToJournal, request),
      );
    },
  };
}

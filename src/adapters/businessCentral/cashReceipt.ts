import { createHash } from 'node:crypto';
import type { Money } from '../../domain/money';
import { ExternalServiceError } from '../http/errors';
import type { BusinessCentralClient } from './client';
import type { BcGlEntry, BcLedgerEntry } from './types';

// Idempotent posting of one portal payment into Business Central, keyed by its external document number.
//
// Business Central posts every line of a journal batch at once, so the caller (one journalPoster workflow per batch)
// serialises calls per batch. Each call:
//   1. returns at once when entries with this external document number are already posted;
//   2. otherwise reconciles the batch's unposted lines for this key with the wanted lines (keeps matching lines from
//      an interrupted earlier attempt, deletes stale ones and duplicates left by a retried create, creates the
//      missing ones) until a fresh read matches;
//   3. posts the batch; if the answer is lost, the retry finds the posted entries in step 1;
//   4. on a permanent posting error deletes its own lines again so they cannot block the batch, and rethrows.
// Applied and unapplied receipts go to the customer payment batch (Document Type Payment, negative amounts); refunds,
// reversals (a debit to the customer) and fee lines (a credit to a G/L account) go to a general journal batch under
// one document number derived from the key.

export type CashReceiptLine =
  | { kind: 'applied'; customerNumber: string; amount: Money; invoiceNumber: string; description?: string }
  | { kind: 'unapplied'; customerNumber: string; amount: Money; description?: string }
  | { kind: 'refund' | 'reversal'; customerNumber: string; amount: Money; description?: string }
  | { kind: 'fee'; account: string; amount: Money; description?: string };

export interface CashReceiptRequest {
  /** Customer payment journal batch (cash receipts template), e.g. ARSYNC. */
  journalCode: string;
  /** General journal batch for refund, reversal and fee lines. */
  generalJournalCode?: string;
  /** Idempotency key, e.g. the portal payment id (max 35 characters). */
  externalDocumentNumber: string;
  postingDate?: string;
  /** Every amount positive: money received (applied/unapplied/fee) or paid back (refund/reversal). */
  lines: CashReceiptLine[];
}

export interface CashReceiptResult {
  externalDocumentNumber: string;
  status: 'posted' | 'already_posted';
  /** Customer ledger entries carrying the external document number. */
  entries: BcLedgerEntry[];
  /** G/L entries of the general journal part (fees), if any. */
  glEntries: BcGlEntry[];
  /** Remaining amount of each applied invoice after posting. */
  invoiceRemaining: Record<string, Money>;
}

const reject = (message: string, code = 'invalid_request') => new ExternalServiceError('business-central', message, { retryable: false, code });

/** The general journal document number for a key (Document No. is at most 20 characters). */
export function generalDocumentNumber(externalDocumentNumber: string): string {
  return externalDocumentNumber.length <= 20 ? externalDocumentNumber : `X${createHash('sha1').update(externalDocumentNumber).digest('hex').slice(0, 19).toUpperCase()}`;
}

interface Wanted {
  key: string;
  create: () => Promise<unknown>;
}
interface Existing {
  key: string;
  id: string;
}

/** Keeps existing lines that match wanted ones (as a multiset), deletes the rest, creates what is missing. */
async function reconcileOnce(existing: Existing[], wanted: Wanted[], remove: (id: string) => Promise<void>): Promise<number> {
  const pool = [...existing];
  const missing: Wanted[] = [];
  for (const w of wanted) {
    const i = pool.findIndex((e) => e.key === w.key);
    if (i >= 0) pool.splice(i, 1);
    else missing.push(w);
  }
  for (const stale of pool) await remove(stale.id);
  for (const m of missing) await m.create();
  return pool.length + missing.length;
}

/**
 * Reconciles until a fresh read matches exactly: a create whose answer was lost and that was retried leaves a
 * duplicate line, which the next round deletes before anything is posted.
 */
async function reconcile(read: () => Promise<Existing[]>, wanted: Wanted[], remove: (id: string) => Promise<void>, what: string): Promise<void> {
  for (let round = 0; round < 4; round++) {
    if ((await reconcileOnce(await read(), wanted, remove)) === 0) return;
  }
  throw new ExternalServiceError('business-central', `${what}: journal lines keep changing while they are prepared`, { retryable: true, code: 'lines_unsettled' });
}

async function postPart(
  post: () => Promise<void>,
  isPosted: () => Promise<boolean>,
  ownLines: () => Promise<string[]>,
  remove: (id: string) => Promise<void>,
): Promise<void> {
  try {
    await post();
  } catch (err) {
    if (await isPosted()) return; // the post went through; only its answer was lost
    if (err instanceof ExternalServiceError && !err.retryable) for (const id of await ownLines()) await remove(id);
    throw err;
  }
}

export async function postCashReceipt(bc: BusinessCentralClient, req: CashReceiptRequest): Promise<CashReceiptResult> {
  const ext = req.externalDocumentNumber;
  if (!ext || ext.length > 35) throw reject(`externalDocumentNumber must be 1-35 characters, got "${ext}"`);
  if (req.lines.length === 0) throw reject(`cash receipt ${ext} has no lines`);
  const currency = req.lines[0].amount.currency;
  for (const l of req.lines) {
    if (!Number.isSafeInteger(l.amount.minor) || l.amount.minor <= 0) throw reject(`cash receipt ${ext}: ${l.kind} amount must be positive, got ${l.amount.minor}`);
    if (l.amount.currency !== currency) throw reject(`cash receipt ${ext} mixes currencies ${currency} and ${l.amount.currency}`, 'currency_mismatch');
  }
  const receiptLines = req.lines.filter((l): l is Extract<CashReceiptLine, { kind: 'applied' | 'unapplied' }> => l.kind === 'applied' || l.kind === 'unapplied');
  const generalLines = req.lines.filter((l) => l.kind === 'refund' || l.kind === 'reversal' || l.kind === 'fee');
  const appliedInvoices = [...new Set(receiptLines.flatMap((l) => (l.kind === 'applied' ? [l.invoiceNumber] : [])))];

  let postedNow = false;

  if (receiptLines.length > 0) {
    const journal = await bc.findJournalBatch(req.journalCode);
    if (!journal) throw reject(`customer payment journal batch ${req.journalCode} does not exist`, 'journal_not_found');
    const isPosted = async () => (await bc.findEntriesByExternalDocumentNumbers([ext])).some((e) => e.documentType === 'Payment');
    if (!(await isPosted())) {
      for (const inv of appliedInvoices) {
        const invoice = await bc.getSalesInvoiceByNumber(inv, { lines: false });
        if (!invoice) throw reject(`cash receipt ${ext}: invoice ${inv} does not exist`, 'unknown_invoice');
        if (invoice.currencyCode !== currency) throw reject(`cash receipt ${ext}: invoice ${inv} is in ${invoice.currencyCode}, the payment in ${currency}`, 'currency_mismatch');
      }
      const keyOf = (customer: string, minor: number, invoice: string) => `${customer}|${minor}|${invoice}`;
      const own = () => bc.findCustomerPaymentLines(journal.id, ext, currency);
      await reconcile(
        async () => (await own()).map((l) => ({ id: l.id, key: keyOf(l.customerNumber, l.amount.minor, l.appliesToInvoiceNumber) })),
        receiptLines.map((l) => {
          const invoice = l.kind === 'applied' ? l.invoiceNumber : '';
          return {
            key: keyOf(l.customerNumber, -l.amount.minor, invoice),
            create: () =>
              bc.createCustomerPayment(journal.id, {
                customerNumber: l.customerNumber,
                amount: { minor: -l.amount.minor, currency },
                externalDocumentNumber: ext,
                postingDate: req.postingDate,
                appliesToInvoiceNumber: invoice || undefined,
                description: l.description,
              }),
          };
        }),
        bc.deleteCustomerPayment,
        `cash receipt ${ext}`,
      );
      await postPart(() => bc.postJournal(journal.id), isPosted, async () => (await own()).map((l) => l.id), bc.deleteCustomerPayment);
      postedNow = true;
    }
  }

  let glEntries: BcGlEntry[] = [];
  if (generalLines.length > 0) {
    if (!req.generalJournalCode) throw reject(`cash receipt ${ext} has refund/reversal/fee lines but no generalJournalCode`);
    const journal = await bc.findGeneralJournal(req.generalJournalCode);
    if (!journal) throw reject(`general journal batch ${req.generalJournalCode} does not exist`, 'journal_not_found');
    const docNo = generalDocumentNumber(ext);
    const isPosted = async () => (await bc.findGeneralLedgerEntries(docNo)).length > 0;
    if (!(await isPosted())) {
      const own = () => bc.findJournalLines(journal.id, docNo, currency);
      const keyOf = (type: string, account: string, minor: number) => `${type}|${account}|${minor}`;
      await reconcile(
        async () => (await own()).map((l) => ({ id: l.id, key: keyOf(l.accountType, l.accountNumber, l.amount.minor) })),
        generalLines.map((l) => {
          const line =
            l.kind === 'fee'
              ? { accountType: 'G/L Account' as const, accountNumber: l.account, minor: -l.amount.minor }
              : { accountType: 'Customer' as const, accountNumber: l.customerNumber, minor: l.amount.minor };
          return {
            key: keyOf(line.accountType, line.accountNumber, line.minor),
            create: () =>
              bc.createJournalLine(journal.id, {
                accountType: line.accountType,
                accountNumber: line.accountNumber,
                amount: { minor: line.minor, currency },
                documentNumber: docNo,
                externalDocumentNumber: ext,
                postingDate: req.postingDate,
                description: l.description,
              }),
          };
        }),
        bc.deleteJournalLine,
        `general journal part of ${ext}`,
      );
      await postPart(() => bc.postJournal(journal.id), isPosted, async () => (await own()).map((l) => l.id), bc.deleteJournalLine);
      postedNow = true;
    }
    glEntries = await bc.findGeneralLedgerEntries(docNo);
  }

  const entries = await bc.findEntriesByExternalDocumentNumbers([ext]);
  const invoiceRemaining: Record<string, Money> = {};
  for (const inv of appliedInvoices) {
    const invoice = await bc.getSalesInvoiceByNumber(inv, { lines: false });
    if (invoice) invoiceRemaining[inv] = invoice.remaining;
  }
  return { externalDocumentNumber: ext, status: postedNow ? 'posted' : 'already_posted', entries, glEntries, invoiceRemaining };
}

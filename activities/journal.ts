import { Context } from '@temporalio/activity';
import { generalDocumentNumber, type BusinessCentralClient, type CashReceiptLine } from '../src/adapters/businessCentral';
import { ExternalServiceError } from '../src/adapters/http/errors';
import { journalPosterWorkflowId } from '../workflows/ids';
import { enqueuePosting, journalPoster } from '../workflows/journalPoster';
import type { ActivityDeps } from './deps';
import type { JournalLineRequest, JournalPostRequest, JournalPostResult } from './journalTypes';

// Posting portal payments into Business Central, one journal batch at a time.
//
// Business Central's post action posts every line of a batch, so the batch's journalPoster workflow runs
// postJournalBatch for one group of requests at a time (a group commit):
//   1. requests already posted (found by external document number) are answered at once;
//   2. the batch is reconciled to exactly the lines of the group's unposted requests: lines left by an interrupted
//      earlier attempt are kept when they match, stale or duplicate lines are deleted, missing ones created, until a
//      fresh read matches (the batch is dedicated to arsync, so any other line is a leftover of an interrupted attempt);
//   3. the batch is posted once; if the answer is lost, the posted entries are found by external document number;
//   4. if Business Central rejects the group (one bad line rolls the whole batch back), the group's lines are deleted
//      and each request is posted on its own, so only the bad payment is rejected.
// Applied and unapplied receipts go to the customer payment batch; fee, refund and reversal lines to the general
// journal batch, the same way. A worker killed at any point leaves at most unposted lines, which the retry reuses.

type GeneralKind = 'fee' | 'refund' | 'reversal';

interface Prepared {
  request: JournalPostRequest;
  ext: string;
  currency: string;
  receipt: JournalLineRequest[];
  general: JournalLineRequest[];
  docNo: string;
}

interface Line {
  id: string;
  owner: string;
  key: string;
}

interface Wanted {
  key: string;
  create: () => Promise<unknown>;
}

const receiptKey = (customer: string, bcMinor: number, invoice: string) => `${customer}|${bcMinor}|${invoice}`;
const generalKey = (type: string, account: string, bcMinor: number) => `${type}|${account}|${bcMinor}`;

function rejectedResult(ext: string, err: { code?: string; status?: number; message: string }): JournalPostResult {
  return { externalDocumentNumber: ext, status: 'rejected', code: err.code ?? String(err.status ?? 'error'), message: err.message };
}

const isPermanent = (err: unknown): err is ExternalServiceError => err instanceof ExternalServiceError && !err.retryable;

/** The checks Business Central would fail the whole group for, made per request before anything is written. */
function prepare(r: JournalPostRequest): Prepared | { ext: string; problem: string } {
  const ext = r.externalDocumentNumber;
  if (!ext || ext.length > 35) return { ext, problem: `externalDocumentNumber must be 1-35 characters, got "${ext}"` };
  if (r.lines.length === 0) return { ext, problem: `posting ${ext} has no lines` };
  const currency = r.lines[0]!.currency;
  for (const l of r.lines) {
    if (!Number.isSafeInteger(l.amountMinor) || l.amountMinor <= 0) return { ext, problem: `posting ${ext}: ${l.kind} amount must be positive, got ${l.amountMinor}` };
    if (l.currency !== currency) return { ext, problem: `posting ${ext} mixes currencies ${currency} and ${l.currency}` };
    if (l.kind === 'applied' && !l.invoiceNumber) return { ext, problem: `posting ${ext}: an applied line needs its invoice` };
    if (l.kind === 'fee' && !l.account) return { ext, problem: `posting ${ext}: a fee line needs its G/L account` };
  }
  return {
    request: r,
    ext,
    currency,
    receipt: r.lines.filter((l) => l.kind === 'applied' || l.kind === 'unapplied'),
    general: r.lines.filter((l) => l.kind === 'fee' || l.kind === 'refund' || l.kind === 'reversal'),
    docNo: generalDocumentNumber(ext),
  };
}

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

/**
 * Brings a batch to exactly the wanted lines of each owner (as multisets of keys) and nothing else; repeats until a
 * fresh read needs no change, so a create whose answer was lost (and was retried) never leaves a duplicate behind. A
 * create Business Central refuses outright rejects that owner: its lines are removed and the others go on.
 */
async function settleBatch(
  read: () => Promise<Line[]>,
  wanted: Map<string, Wanted[]>,
  remove: (id: string) => Promise<void>,
  rejected: Map<string, JournalPostResult>,
  what: string,
): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const existing = await read();
    const pools = new Map<string, Line[]>();
    const stale: Line[] = [];
    for (const line of existing) {
      if (wanted.has(line.owner)) pools.set(line.owner, [...(pools.get(line.owner) ?? []), line]);
      else stale.push(line);
    }
    const missing = new Map<string, Wanted[]>();
    for (const [owner, lines] of wanted) {
      const pool = [...(pools.get(owner) ?? [])];
      const absent: Wanted[] = [];
      for (const w of lines) {
        const i = pool.findIndex((e) => e.key === w.key);
        if (i >= 0) pool.splice(i, 1);
        else absent.push(w);
      }
      stale.push(...pool);
      if (absent.length) missing.set(owner, absent);
    }
    if (stale.length === 0 && missing.size === 0) return;
    // Owners are independent: their lines are written side by side (the client's limiter bounds the concurrency).
    await Promise.all(stale.map((line) => remove(line.id)));
    await Promise.all(
      [...missing].map(async ([owner, lines]) => {
        for (const m of lines) {
          try {
            await m.create();
          } catch (err) {
            if (!isPermanent(err)) throw err;
            rejected.set(owner, rejectedResult(owner, err));
            wanted.delete(owner);
            return;
          }
        }
      }),
    );
  }
  throw new ExternalServiceError('business-central', `${what}: journal lines keep changing while they are prepared`, { retryable: true, code: 'lines_unsettled' });
}

/** Posts a settled batch once; a lost answer is recognised by the entries it posted. */
async function postOnce(bc: BusinessCentralClient, journalId: string, allPosted: () => Promise<boolean>): Promise<'posted' | 'group_rejected'> {
  try {
    await bc.postJournal(journalId);
    return 'posted';
  } catch (err) {
    if (await allPosted()) return 'posted';
    if (isPermanent(err)) return 'group_rejected';
    throw err;
  }
}

/** Runs `fn`, heartbeating while it runs, so a worker killed mid-call is noticed within the heartbeat timeout. */
export async function heartbeating<T>(fn: () => Promise<T>, everyMs = 1000): Promise<T> {
  let ctx: Context | null = null;
  try {
    ctx = Context.current();
  } catch {
    ctx = null; // not inside an activity (direct calls in tests)
  }
  if (!ctx) return fn();
  const c = ctx;
  c.heartbeat();
  const timer = setInterval(() => c.heartbeat(), everyMs);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

/** One group commit of a batch (see the header). Answers every request, in order. */
export async function postGroup(deps: Pick<ActivityDeps, 'bc' | 'settings'>, batch: string, requests: JournalPostRequest[]): Promise<JournalPostResult[]> {
  const { bc } = deps;
  const generalBatch = deps.settings.payments.generalJournalBatch;
  const answers = new Map<string, JournalPostResult>();
  const postedNow = new Set<string>();
  const alone: Prepared[] = [];

  const prepared: Prepared[] = [];
  const seen = new Set<string>();
  for (const r of requests) {
    if (seen.has(r.externalDocumentNumber)) continue; // the same payment twice in one group: one posting
    seen.add(r.externalDocumentNumber);
    const p = prepare(r);
    if ('problem' in p) answers.set(p.ext, rejectedResult(p.ext, { code: 'invalid_request', message: p.problem }));
    else prepared.push(p);
  }

  // Customer payment batch: applied and unapplied receipts.
  const withReceipts = prepared.filter((p) => p.receipt.length > 0);
  if (withReceipts.length > 0) {
    const journal = await bc.findJournalBatch(batch);
    if (!journal) {
      for (const p of withReceipts) answers.set(p.ext, rejectedResult(p.ext, { code: 'journal_not_found', message: `customer payment journal batch ${batch} does not exist` }));
    } else {
      const receiptPosted = async (ext: string) => (await bc.findPostedEntries(ext)).some((e) => e.externalDocumentNumber === ext && e.documentType === 'Payment');
      const posted = await Promise.all(withReceipts.map((p) => receiptPosted(p.ext)));
      const pending = withReceipts.filter((_, i) => !posted[i]);
      const wanted = new Map<string, Wanted[]>();
      for (const p of pending) {
        wanted.set(
          p.ext,
          p.receipt.map((l) => {
            const invoice = l.kind === 'applied' ? l.invoiceNumber! : '';
            return {
              key: receiptKey(l.customerNumber, -l.amountMinor, invoice),
              create: () =>
                bc.createCustomerPayment(journal.id, {
                  customerNumber: l.customerNumber,
                  amount: { minor: -l.amountMinor, currency: p.currency },
                  externalDocumentNumber: p.ext,
                  postingDate: p.request.postingDate,
                  appliesToInvoiceNumber: invoice || undefined,
                  description: l.description,
                }),
            };
          }),
        );
      }
      const readLines = async (): Promise<Line[]> =>
        (await bc.findCustomerPaymentLines(journal.id)).map((l) => ({
          id: l.id,
          owner: l.externalDocumentNumber,
          key: receiptKey(l.customerNumber, l.amount.minor, l.appliesToInvoiceNumber),
        }));
      if (pending.length > 0) {
        await settleBatch(readLines, wanted, bc.deleteCustomerPayment, answers, `customer payment batch ${batch}`);
        const group = pending.filter((p) => wanted.has(p.ext));
        if (group.length > 0) {
          const outcome = await postOnce(bc, journal.id, async () => (await Promise.all(group.map((p) => receiptPosted(p.ext)))).every(Boolean));
          if (outcome === 'posted') for (const p of group) postedNow.add(p.ext);
          else {
            await Promise.all((await readLines()).map((line) => bc.deleteCustomerPayment(line.id)));
            alone.push(...group);
          }
        }
      }
    }
  }

  // General journal batch: fees, refunds and reversals of the requests still in the group.
  const withGeneral = prepared.filter((p) => p.general.length > 0 && !answers.has(p.ext) && !alone.includes(p));
  if (withGeneral.length > 0) {
    const journal = await bc.findGeneralJournal(generalBatch);
    if (!journal) {
      for (const p of withGeneral) answers.set(p.ext, rejectedResult(p.ext, { code: 'journal_not_found', message: `general journal batch ${generalBatch} does not exist` }));
    } else {
      const generalPosted = async (docNo: string) => (await bc.findGeneralLedgerEntries(docNo)).length > 0;
      const posted = await Promise.all(withGeneral.map((p) => generalPosted(p.docNo)));
      const pending = withGeneral.filter((_, i) => !posted[i]);
      const byDoc = new Map(pending.map((p) => [p.docNo, p]));
      const wanted = new Map<string, Wanted[]>();
      for (const p of pending) {
        wanted.set(
          p.docNo,
          p.general.map((l) => {
            const kind = l.kind as GeneralKind;
            const line =
              kind === 'fee'
                ? { accountType: 'G/L Account' as const, accountNumber: l.account!, minor: -l.amountMinor }
                : { accountType: 'Customer' as const, accountNumber: l.customerNumber, minor: l.amountMinor };
            return {
              key: generalKey(line.accountType, line.accountNumber, line.minor),
              create: () =>
                bc.createJournalLine(journal.id, {
                  accountType: line.accountType,
                  accountNumber: line.accountNumber,
                  amount: { minor: line.minor, currency: p.currency },
                  documentNumber: p.docNo,
                  externalDocumentNumber: p.ext,
                  postingDate: p.request.postingDate,
                  description: l.description,
                }),
            };
          }),
        );
      }
      const readLines = async (): Promise<Line[]> =>
        (await bc.findJournalLines(journal.id)).map((l) => ({ id: l.id, owner: l.documentNumber, key: generalKey(l.accountType, l.accountNumber, l.amount.minor) }));
      if (pending.length > 0) {
        const rejectedDocs = new Map<string, JournalPostResult>();
        await settleBatch(readLines, wanted, bc.deleteJournalLine, rejectedDocs, `general journal batch ${generalBatch}`);
        for (const [docNo, res] of rejectedDocs) {
          const p = byDoc.get(docNo)!;
          answers.set(p.ext, { ...res, externalDocumentNumber: p.ext } as JournalPostResult);
        }
        const group = pending.filter((p) => wanted.has(p.docNo));
        if (group.length > 0) {
          const outcome = await postOnce(bc, journal.id, async () => (await Promise.all(group.map((p) => generalPosted(p.docNo)))).every(Boolean));
          if (outcome === 'posted') for (const p of group) postedNow.add(p.ext);
          else {
            await Promise.all((await readLines()).map((line) => bc.deleteJournalLine(line.id)));
            alone.push(...group);
          }
        }
      }
    }
  }

  // A rejected group: every request of it on its own, so only the payment Business Central refuses is rejected.
  for (const p of alone) {
    try {
      const res = await bc.postCashReceipt({
        journalCode: batch,
        generalJournalCode: generalBatch,
        externalDocumentNumber: p.ext,
        postingDate: p.request.postingDate,
        lines: toCashReceiptLines(p.request),
      });
      if (res.status === 'posted') postedNow.add(p.ext);
    } catch (err) {
      if (!isPermanent(err)) throw err;
      answers.set(p.ext, rejectedResult(p.ext, err));
    }
  }

  await Promise.all(prepared.filter((p) => !answers.has(p.ext)).map(async (p) => {
    const entries = (await bc.findPostedEntries(p.ext)).filter((e) => e.externalDocumentNumber === p.ext);
    const invoiceRemaining: Record<string, number> = {};
    for (const inv of new Set(p.receipt.flatMap((l) => (l.kind === 'applied' ? [l.invoiceNumber!] : [])))) {
      const invoice = await bc.getSalesInvoiceByNumber(inv, { lines: false });
      if (invoice) invoiceRemaining[inv] = invoice.remaining.minor;
    }
    answers.set(p.ext, {
      externalDocumentNumber: p.ext,
      status: postedNow.has(p.ext) ? 'posted' : 'already_posted',
      entries: entries.map((e) => ({ entryNumber: e.entryNumber, documentNumber: e.documentNumber, amountMinor: e.amount.minor, invoiceNumber: null })),
      invoiceRemaining,
    });
  }));
  return [...seen].map((ext) => answers.get(ext)!);
}

export function createJournalActivities(deps: ActivityDeps) {
  return {
    /**
     * Run by the journal poster only (one at a time per batch): one group commit of the queued requests. A permanent
     * ERP rejection answers that request as rejected and the others go on; a transient failure fails the activity,
     * and the retry reuses the lines already written and skips what was already posted.
     */
    async postJournalBatch({ batch, requests }: { companyId: string; batch: string; requests: JournalPostRequest[] }): Promise<JournalPostResult[]> {
      return heartbeating(() => postGroup(deps, batch, requests));
    },

    /**
     * Called by payment workflows: enqueues a posting with the batch's journal poster (signal-with-start). The answer
     * comes back to `replyTo` as a `journalPosted` signal; enqueueing the same request id twice gets one posting.
     */
    async enqueueJournalPosting(input: { companyId: string; requestId: string; replyTo: string; request: JournalPostRequest }): Promise<void> {
      const { client, taskQueue } = deps.temporal;
      const batch = deps.settings.payments.journalBatch;
      await client.workflow.signalWithStart(journalPoster, {
        taskQueue,
        workflowId: journalPosterWorkflowId(input.companyId, batch),
        args: [{ companyId: input.companyId, batch }],
        signal: enqueuePosting,
        signalArgs: [{ requestId: input.requestId, replyTo: input.replyTo, request: input.request }],
      });
    },
  };
}

import { Context } from '@temporalio/activity';
import { generalDocumentNumber, type BcCustomerPaymentLine, type BcJournal, type BcJournalLine, type BusinessCentralClient } from '../src/adapters/businessCentral';
import { ExternalServiceError } from '../src/adapters/http/errors';
import { urgently } from '../src/adapters/http/limiter';
import { journalPosterWorkflowId, postingTaskQueue } from '../workflows/ids';
import { enqueuePosting, JOURNAL_POSTER_REVISION, journalPoster } from '../workflows/journalPoster';
import type { ActivityDeps } from './deps';
import { tellStaffPaymentPosted } from './notifications';
import type { JournalLineRequest, JournalPostRequest, JournalPostResult } from './journalTypes';

// Posting portal payments into Business Central, one journal batch at a time.
//
// Business Central's post action posts every line of a batch, so the batch's journalPoster workflow runs
// postJournalBatch for one group of requests at a time (a group commit), in parts of POST_PART requests, once per
// batch involved:
//   1. requests already posted (found by external / document number) are answered at once;
//   2. the batch is reconciled to exactly the lines of the group's unposted requests: lines left by an interrupted
//      earlier attempt are kept when they match, stale or duplicate lines are deleted, missing ones created, until a
//      fresh read matches (the batch is dedicated to arsync, so any other line is a leftover of an interrupted attempt);
//   3. the batch is posted once; if the answer is lost, the posted entries are found by their numbers; a receipt the
//      ledger does not show after the post (its line deleted meanwhile) fails the attempt, and the next one writes it;
//   4. if Business Central rejects the group (one bad line rolls the whole batch back), the group's lines are deleted
//      and each request is committed on its own, so only the payment Business Central refuses is rejected.
// Applied and unapplied receipts go to the customer payment batch; fee, refund and reversal lines to the general
// journal batch. The customer payment API takes no balancing account (contracts/business-central.md §2.5: it is the
// batch's), so when the payment method has its own, a general journal line moves the receipt from the batch's
// balancing account to it. A worker killed at any point leaves at most unposted lines, which the retry reuses. An
// attempt that failed waits for its own writes in flight before it ends, and one that Temporal has given up on (timed
// out while its worker still runs) stops at its next write, so neither writes into the batch behind the next attempt.

interface Prepared {
  request: JournalPostRequest;
  ext: string;
  currency: string;
  receipt: JournalLineRequest[];
  general: JournalLineRequest[];
  /** Document number of the general journal part. */
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

/** One journal batch as the commit sees it. */
interface BatchPart {
  what: string;
  /** Which lines of the batch belong to a request (external or document number). */
  owner(p: Prepared): string;
  /** The owners of these requests the ERP has posted already (one look for the whole group). */
  posted(ps: Prepared[]): Promise<Set<string>>;
  wanted(p: Prepared): Wanted[];
  read(): Promise<Line[]>;
  remove(id: string): Promise<void>;
  post(): Promise<void>;
}

const receiptKey = (customer: string, bcMinor: number, invoice: string) => `${customer}|${bcMinor}|${invoice}`;
const generalKey = (type: string, account: string, bcMinor: number, balancing: string) => `${type}|${account}|${bcMinor}|${balancing}`;

function rejectedResult(ext: string, err: { code?: string; status?: number; message: string }): JournalPostResult {
  return { externalDocumentNumber: ext, status: 'rejected', code: err.code ?? String(err.status ?? 'error'), message: err.message };
}

const isPermanent = (err: unknown): err is ExternalServiceError => err instanceof ExternalServiceError && !err.retryable;

/** The checks Business Central would fail the whole group for, made per request before anything is written. */
function prepare(r: JournalPostRequest): Prepared | { ext: string; problem: string } {
  const ext = r.externalDocumentNumber;
  if (!ext || ext.length > 35) return { ext, problem: `externalDocumentNumber must be 1-35 characters, got "${ext}"` };
  if (!Array.isArray(r.lines) || r.lines.length === 0) return { ext, problem: `posting ${ext} has no lines` };
  const currency = r.lines[0]!.currency;
  for (const l of r.lines) {
    if (!Number.isSafeInteger(l.amountMinor) || l.amountMinor <= 0) return { ext, problem: `posting ${ext}: ${l.kind} amount must be positive, got ${l.amountMinor}` };
    if (l.currency !== currency) return { ext, problem: `posting ${ext} mixes currencies ${currency} and ${l.currency}` };
    if (l.kind === 'applied' && !l.invoiceNumber) return { ext, problem: `posting ${ext}: an applied line needs its invoice` };
    if ((l.kind === 'fee' || l.kind === 'fee_reversal') && !l.account) return { ext, problem: `posting ${ext}: a ${l.kind} line needs its G/L account` };
  }
  return {
    request: r,
    ext,
    currency,
    receipt: r.lines.filter((l) => l.kind === 'applied' || l.kind === 'unapplied'),
    general: r.lines.filter((l) => l.kind !== 'applied' && l.kind !== 'unapplied'),
    docNo: generalDocumentNumber(ext),
  };
}

/**
 * Waits for every write of a round before failing with the first failure: an attempt that failed must not leave
 * writes of its own still running (another owner's create waiting out a Retry-After) to land in the batch after the
 * next attempt has read it.
 */
async function allWritten(writes: Array<Promise<unknown>>): Promise<void> {
  const failed = (await Promise.allSettled(writes)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Brings a batch to exactly the wanted lines of each owner (as multisets of keys) and nothing else; repeats until a
 * fresh read needs no change, so a create whose answer was lost (and was retried) never leaves a duplicate behind. A
 * create Business Central refuses outright rejects that owner: its lines are removed and the others go on.
 */
async function settleBatch(b: BatchPart, wanted: Map<string, Wanted[]>, rejected: Map<string, ExternalServiceError>): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const pools = new Map<string, Line[]>();
    const stale: Line[] = [];
    for (const line of await b.read()) {
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
    await allWritten(stale.map((line) => b.remove(line.id)));
    await allWritten(
      [...missing].map(async ([owner, lines]) => {
        for (const m of lines) {
          try {
            await m.create();
          } catch (err) {
            if (!isPermanent(err)) throw err;
            rejected.set(owner, err);
            wanted.delete(owner);
            return;
          }
        }
      }),
    );
  }
  throw new ExternalServiceError('business-central', `${b.what}: journal lines keep changing while they are prepared`, { retryable: true, code: 'lines_unsettled' });
}

/**
 * Commits the group's part in one batch: settle, post once; on a rejected group, each request alone. Rejections go to
 * `answers`, requests posted by this call to `postedNow`.
 */
async function commit(b: BatchPart, group: Prepared[], answers: Map<string, JournalPostResult>, postedNow: Set<string>): Promise<void> {
  const done = await b.posted(group);
  const pending = group.filter((p) => !done.has(b.owner(p)));
  if (pending.length === 0) return;
  const wanted = new Map(pending.map((p) => [b.owner(p), b.wanted(p)]));
  const refused = new Map<string, ExternalServiceError>();
  await settleBatch(b, wanted, refused);
  for (const p of pending) {
    const err = refused.get(b.owner(p));
    if (err) answers.set(p.ext, rejectedResult(p.ext, err));
  }
  const ready = pending.filter((p) => wanted.has(b.owner(p)));
  if (ready.length === 0) return;
  try {
    await b.post();
  } catch (err) {
    const posted = await b.posted(ready);
    if (!ready.every((p) => posted.has(b.owner(p)))) {
      if (!isPermanent(err)) throw err;
      // Business Central rolled the batch back: take the group's lines out and try each request on its own.
      await allWritten((await b.read()).map((line) => b.remove(line.id)));
      if (ready.length === 1) answers.set(ready[0]!.ext, rejectedResult(ready[0]!.ext, err));
      else for (const p of ready) await commit(b, [p], answers, postedNow);
      return;
    }
  }
  for (const p of ready) postedNow.add(p.ext);
}

/**
 * A batch looked up once per group commit, together with its lines (one request): the first read of the batch that
 * follows takes those lines instead of asking again; every later read asks.
 */
function batchLookup<L>(find: () => Promise<{ journal: BcJournal; lines: L[] } | null>): () => Promise<{ journal: BcJournal; lines?: L[] } | null> {
  let found: Promise<{ journal: BcJournal; lines: L[] } | null> | undefined;
  let first = true;
  return async () => {
    const r = await (found ??= find());
    const lines = first ? r?.lines : undefined;
    first = false;
    return r && { journal: r.journal, lines };
  };
}

/** `read` for a batch part: the lines the lookup brought, once, then a fresh read each time. */
function readOnce<L>(lines: L[] | undefined, read: () => Promise<L[]>): () => Promise<L[]> {
  let pending = lines;
  return async () => {
    const out = pending ?? (await read());
    pending = undefined;
    return out;
  };
}

function receiptBatch(bc: BusinessCentralClient, journal: BcJournal, lines?: BcCustomerPaymentLine[]): BatchPart {
  const readLines = readOnce(lines, () => bc.findCustomerPaymentLines(journal.id));
  return {
    what: `customer payment batch ${journal.code}`,
    owner: (p) => p.ext,
    posted: async (ps) =>
      new Set((await bc.findEntriesByExternalDocumentNumbers(ps.map((p) => p.ext))).filter((e) => e.documentType === 'Payment').map((e) => e.externalDocumentNumber)),
    wanted: (p) =>
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
    read: async () =>
      (await readLines()).map((l) => ({
        id: l.id,
        owner: l.externalDocumentNumber,
        key: receiptKey(l.customerNumber, l.amount.minor, l.appliesToInvoiceNumber),
      })),
    remove: (id) => bc.deleteCustomerPayment(id),
    post: () => bc.postJournal(journal.id),
  };
}

/** A general journal line as Business Central holds it: signed amount, account, balancing account. */
interface GeneralLine {
  accountType: 'G/L Account' | 'Customer';
  accountNumber: string;
  minor: number;
  balancing: string;
  description: string;
}

/**
 * The general journal lines of a request: fees (credit the fee account), fee reversals (debit it), refunds and
 * reversals (debit the customer), refund reversals (credit the customer),
 * and, for receipts whose method has its own balancing account, the move from the receipt batch's balancing account
 * to it. Fees balance to the method's account directly.
 */
function generalLines(p: Prepared, receiptBalancing: string | null, generalBalancing: string): GeneralLine[] {
  const methodAccount = p.request.balancingAccountNo || null;
  const lines: GeneralLine[] = p.general.map((l) =>
    l.kind === 'fee' || l.kind === 'fee_reversal'
      ? {
          accountType: 'G/L Account',
          accountNumber: l.account!,
          // A fee's reversal debits the fee account against the account the fee's posting debited.
          minor: l.kind === 'fee' ? -l.amountMinor : l.amountMinor,
          balancing: (l.kind === 'fee_reversal' && l.balancingAccount) || methodAccount || generalBalancing,
          description: l.description,
        }
      : {
          accountType: 'Customer',
          accountNumber: l.customerNumber,
          // A refund's reversal credits the customer (the refund debited it) against the same balancing account.
          minor: l.kind === 'refund_reversal' ? -l.amountMinor : l.amountMinor,
          balancing: generalBalancing,
          description: l.description,
        },
  );
  const received = p.receipt.reduce((sum, l) => sum + l.amountMinor, 0);
  if (methodAccount && receiptBalancing && methodAccount !== receiptBalancing && received > 0) {
    lines.push({
      accountType: 'G/L Account',
      accountNumber: methodAccount,
      minor: received,
      balancing: receiptBalancing,
      description: `Portal payment ${p.ext}: to the ${p.request.paymentMethodCode ?? 'payment method'} account`.slice(0, 100),
    });
  }
  return lines;
}

function generalBatch(bc: BusinessCentralClient, journal: BcJournal, linesOf: (p: Prepared) => GeneralLine[], lines?: BcJournalLine[]): BatchPart {
  const readLines = readOnce(lines, () => bc.findJournalLines(journal.id));
  return {
    what: `general journal batch ${journal.code}`,
    owner: (p) => p.docNo,
    posted: async (ps) => new Set((await bc.findGeneralLedgerEntriesOf(ps.map((p) => p.docNo))).map((e) => e.documentNumber)),
    wanted: (p) =>
      linesOf(p).map((line) => ({
        key: generalKey(line.accountType, line.accountNumber, line.minor, line.balancing),
        create: () =>
          bc.createJournalLine(journal.id, {
            accountType: line.accountType,
            accountNumber: line.accountNumber,
            amount: { minor: line.minor, currency: p.currency },
            documentNumber: p.docNo,
            externalDocumentNumber: p.ext,
            postingDate: p.request.postingDate,
            description: line.description,
            balancingAccountNumber: line.balancing || undefined,
          }),
      })),
    read: async () =>
      (await readLines()).map((l) => ({
        id: l.id,
        owner: l.documentNumber,
        key: generalKey(l.accountType, l.accountNumber, l.amount.minor, l.balancingAccountNumber),
      })),
    remove: (id) => bc.deleteJournalLine(id),
    post: () => bc.postJournal(journal.id),
  };
}

/** How long one staff notice may hold up the group's answers. */
const NOTICE_TIMEOUT_MS = 3000;

/**
 * Sends the staff notices of the posted requests that ask for one, after the commit: one activity for the group
 * instead of one per payment. A notice that cannot go out now is left to its requester (`staffNotified` unset), so
 * it is retried there and never holds up the posting answers.
 */
async function tellStaff(deps: ActivityDeps, requests: JournalPostRequest[], results: JournalPostResult[]): Promise<JournalPostResult[]> {
  const byExt = new Map(requests.map((r) => [r.externalDocumentNumber, r]));
  return Promise.all(
    results.map(async (r) => {
      const notice = byExt.get(r.externalDocumentNumber)?.notify;
      if (!notice || r.status === 'rejected') return r;
      try {
        // Bounded: an SMTP server that is slow or retrying must not delay the answers (the requester sends it then).
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), NOTICE_TIMEOUT_MS)));
        await Promise.race([tellStaffPaymentPosted(deps, notice), late]).finally(() => clearTimeout(timer));
        return { ...r, staffNotified: true };
      } catch (err) {
        deps.logger.warn({ paymentId: notice.paymentId, err: String(err) }, 'staff notice of a posted payment left to the payment workflow');
        return r;
      }
    }),
  );
}

/**
 * Requests committed per post. A group is committed in parts of this many, in the group's order, so an attempt cut
 * short (a worker killed every few seconds, a timeout) leaves whole parts posted, which the next attempt skips with
 * one read, and the interrupted part's lines, which it reuses: every attempt moves the group on. A large group's
 * single post would need one uninterrupted attempt for all of it.
 */
export const POST_PART = 20;

/**
 * The client with every write to a batch (line created or deleted, batch posted) asking `alive` first: an attempt
 * that has ended (timed out, its worker presumed dead and the commit retried elsewhere) stops writing at its next
 * write instead of adding lines to, or posting, a batch that the next attempt is bringing to its own lines.
 */
function writesWhileAlive(bc: BusinessCentralClient, alive: () => void): BusinessCentralClient {
  const guard =
    <A extends unknown[], R>(write: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      alive();
      return write(...args);
    };
  return {
    ...bc,
    createCustomerPayment: guard(bc.createCustomerPayment),
    deleteCustomerPayment: guard(bc.deleteCustomerPayment),
    createJournalLine: guard(bc.createJournalLine),
    deleteJournalLine: guard(bc.deleteJournalLine),
    postJournal: guard(bc.postJournal),
  };
}

/**
 * One group commit of a batch, in parts (see the header). Answers every request once, in order. `alive` throws once the
 * attempt running it has ended (see `writesWhileAlive`).
 */
export async function postGroup(
  deps: Pick<ActivityDeps, 'bc' | 'settings'>,
  batch: string,
  requests: JournalPostRequest[],
  alive: () => void = () => undefined,
): Promise<JournalPostResult[]> {
  const bc = writesWhileAlive(deps.bc, alive);
  const generalCode = deps.settings.payments.generalJournalBatch;
  const answers = new Map<string, JournalPostResult>();
  const postedNow = new Set<string>();

  const prepared: Prepared[] = [];
  const order: string[] = [];
  for (const r of requests) {
    if (order.includes(r.externalDocumentNumber)) continue; // the same payment twice in one group: one posting
    order.push(r.externalDocumentNumber);
    const p = prepare(r);
    if ('problem' in p) answers.set(p.ext, rejectedResult(p.ext, { code: 'invalid_request', message: p.problem }));
    else prepared.push(p);
  }
  const open = () => prepared.filter((p) => !answers.has(p.ext));
  const reject = (ps: Prepared[], code: string, message: string) => ps.forEach((p) => answers.set(p.ext, rejectedResult(p.ext, { code, message })));

  // Each batch is looked up once, with its lines, when a part first needs it.
  const receiptJournal = batchLookup(() => bc.findJournalBatchWithLines(batch));
  const generalJournal = batchLookup(() => bc.findGeneralJournalWithLines(generalCode));
  let receiptBalancing: string | null = null;
  for (let start = 0; start < prepared.length; start += POST_PART) {
    const part = prepared.slice(start, start + POST_PART);
    const standing = () => part.filter((p) => !answers.has(p.ext));

    // Customer payment batch: applied and unapplied receipts.
    const withReceipts = standing().filter((p) => p.receipt.length > 0);
    if (withReceipts.length > 0) {
      const found = await receiptJournal();
      if (!found) reject(withReceipts, 'journal_not_found', `customer payment journal batch ${batch} does not exist`);
      else {
        receiptBalancing = found.journal.balancingAccountNumber || null;
        await commit(receiptBatch(bc, found.journal, found.lines), withReceipts, answers, postedNow);
      }
    }

    // General journal batch: fees, refunds, reversals and balancing-account moves of the part's requests still standing.
    const withGeneral = standing().filter((p) => generalLines(p, receiptBalancing, '').length > 0);
    if (withGeneral.length > 0) {
      const found = await generalJournal();
      if (!found) reject(withGeneral, 'journal_not_found', `general journal batch ${generalCode} does not exist`);
      else {
        const linesOf = (p: Prepared) => generalLines(p, receiptBalancing, found.journal.balancingAccountNumber);
        await commit(generalBatch(bc, found.journal, linesOf, found.lines), withGeneral, answers, postedNow);
      }
    }
  }

  // The answers: posted entries and the applied invoices' remaining amounts, read once for the whole group, side by
  // side (two independent reads; every posting waits for them).
  const standing = open();
  const appliedTo = (p: Prepared) => [...new Set(p.receipt.flatMap((l) => (l.kind === 'applied' ? [l.invoiceNumber!] : [])))];
  const invoiceNumbers = standing.flatMap(appliedTo);
  const [postedEntries, invoices] = await Promise.all([
    standing.length ? bc.findEntriesByExternalDocumentNumbers(standing.map((p) => p.ext)) : [],
    invoiceNumbers.length ? bc.findSalesInvoicesByNumbers(invoiceNumbers) : [],
  ]);
  // A receipt the post reported posted but the ledger does not show (its line deleted by someone between the last read
  // of the batch and the post) is not answered as posted: the attempt fails and the next one writes it again.
  const unseen = standing.filter((p) => postedNow.has(p.ext) && p.receipt.length > 0 && !postedEntries.some((e) => e.externalDocumentNumber === p.ext));
  if (unseen.length > 0) {
    const exts = unseen.map((p) => p.ext).join(', ');
    throw new ExternalServiceError('business-central', `batch ${batch} posted, but the ledger has no entry for ${exts}: committed again`, { retryable: true, code: 'posting_not_found' });
  }
  for (const p of standing) {
    const invoiceRemaining: Record<string, number> = {};
    for (const inv of appliedTo(p)) {
      const invoice = invoices.find((i) => i.number === inv);
      if (invoice) invoiceRemaining[inv] = invoice.remaining.minor;
    }
    answers.set(p.ext, {
      externalDocumentNumber: p.ext,
      status: postedNow.has(p.ext) ? 'posted' : 'already_posted',
      entries: postedEntries
        .filter((e) => e.externalDocumentNumber === p.ext)
        .map((e) => ({ entryNumber: e.entryNumber, documentNumber: e.documentNumber, amountMinor: e.amount.minor, invoiceNumber: null })),
      invoiceRemaining,
    });
  }
  return order.map((ext) => answers.get(ext)!);
}

export function createJournalActivities(deps: ActivityDeps) {
  return {
    /**
     * Run by the journal poster only (one at a time per batch): one group commit of the queued requests. A permanent
     * ERP rejection answers that request as rejected and the others go on; a transient failure fails the activity,
     * and the retry reuses the lines already written and skips what was already posted. The worker heartbeats it
     * while it runs (src/worker/heartbeats.ts), so a killed worker's commit is retried within seconds.
     */
    async postJournalBatch({ batch, requests }: { companyId: string; batch: string; requests: JournalPostRequest[] }): Promise<JournalPostResult[]> {
      // Every queued payment waits for this commit: its requests go ahead of other reads waiting for BC's quota.
      const { cancellationSignal } = Context.current();
      const alive = () => {
        if (cancellationSignal.aborted) throw cancellationSignal.reason;
      };
      return tellStaff(deps, requests, await urgently(() => postGroup(deps, batch, requests, alive)));
    },

    /**
     * Called by payment workflows: enqueues a posting with the batch's journal poster (signal-with-start). The answer
     * comes back to `replyTo` as a `journalPosted` signal; enqueueing the same request id twice gets one posting.
     */
    async enqueueJournalPosting(input: { companyId: string; requestId: string; replyTo: string; request: JournalPostRequest }): Promise<void> {
      const { client, taskQueue } = deps.temporal;
      const batch = deps.settings.payments.journalBatch;
      await client.workflow.signalWithStart(journalPoster, {
        taskQueue: postingTaskQueue(taskQueue),
        workflowId: journalPosterWorkflowId(input.companyId, batch),
        args: [{ companyId: input.companyId, batch, revision: JOURNAL_POSTER_REVISION }],
        signal: enqueuePosting,
        signalArgs: [{ requestId: input.requestId, replyTo: input.replyTo, request: input.request }],
      });
    },
  };
}

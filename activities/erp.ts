import { generalDocumentNumber, type BcGlEntry, type BcLedgerEntry, type BcSalesInvoice } from '../src/adapters/businessCentral';
import type { ApplicationSettings, ErpInvoiceInfo } from '../src/domain/application';
import type { ActivityDeps } from './deps';
import { classified } from './failures';
import type { FeeLine } from '../src/domain/reversal';
import type { ErpGeneralPosting, ErpPostingState } from './paymentTypes';
import { isAdjustmentTakeBack, reversalKey } from '../workflows/portalPayment';

export type ErpInvoiceStatus = 'draft' | 'open' | 'paid' | 'cancelled' | 'unknown';

export interface ErpInvoiceSummary {
  number: string;
  customerNumber: string;
  currency: string;
  totalMinor: number;
  remainingMinor: number;
  status: ErpInvoiceStatus;
  dueDate: string;
}

/** `openPosted`: whether an `Open` invoice is known to be posted (false: a released draft); unasked, it is taken as posted. */
export function erpStatus(inv: BcSalesInvoice | null, openPosted = true): ErpInvoiceStatus {
  if (!inv) return 'unknown';
  switch (inv.status) {
    case 'Open':
      return openPosted ? 'open' : 'draft';
    case 'Paid':
      return 'paid';
    case 'Canceled':
    case 'Corrective':
      return 'cancelled';
    default:
      return 'draft';
  }
}

export function summarise(inv: BcSalesInvoice, openPosted = true): ErpInvoiceSummary {
  return {
    number: inv.number,
    customerNumber: inv.billToCustomerNumber || inv.customerNumber,
    currency: inv.currencyCode,
    totalMinor: inv.totalIncludingTax.minor,
    remainingMinor: inv.remaining.minor,
    status: erpStatus(inv, openPosted),
    dueDate: inv.dueDate,
  };
}

/** What the ERP says of an invoice number it does not have. */
export function unknownInvoice(number: string): ErpInvoiceSummary {
  return { number, customerNumber: '', currency: '', totalMinor: 0, remainingMinor: 0, status: 'unknown', dueDate: '' };
}

/** The payment settings the application plan needs, from the setup page. */
export function applicationSettings(settings: ActivityDeps['settings']): ApplicationSettings {
  const p = settings.payments;
  return {
    postPaymentsForClosedInvoices: p.postPaymentsForClosedInvoices,
    disallowOverpayments: p.disallowOverpayments,
    feeAccount: p.feeAccountNo,
    feeCap: p.feeCap,
    overpaymentCredit: true,
    journalBatch: p.journalBatch,
    paymentMethodCode: p.paymentMethodCode,
    methodBalancingAccounts: p.methodBalancingAccounts,
    defaultBalancingAccount: p.balancingAccountNo,
    maxPaymentMinor: p.maxPaymentMinor,
  };
}

export function createErpActivities(deps: ActivityDeps) {
  const { bc } = deps;
  return {
    async loadErpInvoice({ invoiceNumber }: { companyId: string; invoiceNumber: string }): Promise<ErpInvoiceSummary> {
      return classified(async () => {
        const inv = await bc.getSalesInvoiceByNumber(invoiceNumber, { lines: false });
        return inv ? summarise(inv) : unknownInvoice(invoiceNumber);
      });
    },

    /** ERP facts about the invoices a payment names, with the settings the plan applies. */
    async lookupErpInvoices({ numbers, customerNumber }: { numbers: string[]; customerNumber?: string | null }): Promise<ErpInvoiceLookup> {
      return classified(() => lookupErpInvoices(deps, numbers, customerNumber));
    },

    /** What the ERP has posted for a portal payment (and its reversal), keyed by external document number. */
    async findErpPosting({ paymentId }: { paymentId: string }): Promise<ErpPostingState> {
      return classified(async () => {
        const state = await erpPostingState(deps, paymentId);
        if (!state.posted) return state;
        // Reversal keys counted by their G/L entries as well: a fee-only reversal (an excess refunded) has no customer
        // entry, and the next reversal must not take its key again (the journal would answer already posted).
        const { general: _general, ...withGeneral } = await erpPostingStateWithGeneral(deps, paymentId);
        return withGeneral.reversals > state.reversals ? withGeneral : state;
      });
    },
  };
}

export interface ErpInvoiceLookup {
  invoices: ErpInvoiceInfo[];
  settings: ApplicationSettings;
  /** The customer's own payment method code, read only when the settings name no default (absent: not read). */
  customerMethodCode?: string | null;
}

/** The ERP invoices a payment is allocated to, as the application plan needs them, with the posting settings. */
export async function lookupErpInvoices(deps: ActivityDeps, numbers: string[], customerNumber?: string | null): Promise<ErpInvoiceLookup> {
  const invoices: ErpInvoiceInfo[] = [];
  const wanted = [...new Set(numbers)];
  // One query for up to 20 of them (a payment spread over several invoices), not one request each.
  const found = wanted.length ? await deps.bc.findSalesInvoicesByNumbers(wanted) : [];
  for (const n of wanted) {
    const inv = found.find((i) => i.number === n);
    if (!inv) continue;
    const s = erpStatus(inv);
    invoices.push({
      number: inv.number,
      customerNumber: inv.billToCustomerNumber || inv.customerNumber,
      currency: inv.currencyCode,
      remainingMinor: inv.remaining.minor,
      status: s === 'open' ? 'open' : s === 'unknown' || s === 'draft' ? 'unknown' : 'closed',
    });
  }
  // "If Payment Method Code is not specified, it will use the payment method of the customer."
  const customerMethodCode = !deps.settings.payments.paymentMethodCode && customerNumber ? await customerMethodOf(deps, customerNumber) : undefined;
  return { invoices, settings: applicationSettings(deps.settings), ...(customerMethodCode !== undefined ? { customerMethodCode } : {}) };
}

async function customerMethodOf(deps: ActivityDeps, customerNumber: string): Promise<string | null> {
  const customer = await deps.bc.getCustomerByNumber(customerNumber, { details: false });
  if (!customer?.paymentMethodId) return null;
  const methods = await deps.bc.listPaymentMethods();
  return methods.find((m) => m.id.toLowerCase() === customer.paymentMethodId!.toLowerCase())?.code ?? null;
}

/** Reversal keys read together with the payment's own (more are read on only when all of them are taken). */
const REVERSALS_READ_AHEAD = 3;

const reversalKeys = (paymentId: string, from: number) => Array.from({ length: REVERSALS_READ_AHEAD }, (_, i) => reversalKey(paymentId, from + i));

/**
 * What the reversal keys took back of the posting, net: a take-back under the same sequence (a released adjustment
 * pair crediting the customer again, its description ending with `isAdjustmentTakeBack`'s note) restores what the
 * pair's reversal took, so a later pairing or void of the payment reverses it again.
 */
function reversedOf(reversals: BcLedgerEntry[]): number {
  const net = reversals.reduce((s, e) => s + (isAdjustmentTakeBack(e.description) ? -1 : 1) * Math.abs(e.amount.minor), 0);
  return Math.max(0, net);
}

function postingStateOf(posted: BcLedgerEntry[], reversals: BcLedgerEntry[]): ErpPostingState {
  // Payments are credits to the customer (negative); a reversal or refund is a debit (positive).
  const receipts = posted.filter((e) => e.amount.minor < 0);
  const reversalCount = new Set(reversals.map((e) => e.externalDocumentNumber)).size;
  return {
    posted: posted.length > 0,
    postedMinor: receipts.reduce((s, e) => s - e.amount.minor, 0),
    paidOutMinor: posted.filter((e) => e.amount.minor > 0).reduce((s, e) => s + e.amount.minor, 0),
    reversed: reversals.length > 0,
    reversedMinor: reversedOf(reversals),
    reversals: reversalCount,
    customerNumber: posted[0]?.customerNumber ?? null,
    lines: receipts.map((e) => ({ amountMinor: -e.amount.minor, invoiceNumber: null })),
  };
}

/**
 * The posting state from a read of the payment's key and its first reversal keys. Reversals are keyed <id>-R, <id>-R2, …
 * (one per void, refund or adjustment), only ever of a posting: the read goes on, three keys at a time, until a key is
 * missing.
 */
async function postingStateFrom(deps: ActivityDeps, paymentId: string, entries: BcLedgerEntry[]): Promise<ErpPostingState> {
  const posted = entries.filter((e) => e.externalDocumentNumber === paymentId);
  const reversals: BcLedgerEntry[] = [];
  let read = entries;
  for (let n = 1; posted.length > 0; n++) {
    const found = read.filter((e) => e.externalDocumentNumber === reversalKey(paymentId, n));
    if (found.length === 0) break;
    reversals.push(...found);
    if (n % REVERSALS_READ_AHEAD === 0) read = await deps.bc.findEntriesByExternalDocumentNumbers(reversalKeys(paymentId, n + 1));
  }
  return postingStateOf(posted, reversals);
}

const firstKeys = (paymentId: string) => [paymentId, ...reversalKeys(paymentId, 1)];

export async function erpPostingState(deps: ActivityDeps, paymentId: string): Promise<ErpPostingState> {
  return postingStateFrom(deps, paymentId, await deps.bc.findEntriesByExternalDocumentNumbers(firstKeys(paymentId)));
}

/**
 * `erpPostingState` with the G/L side of the posting (`general`), for a payment the portal took money back from: the
 * reversal must mirror every line that was posted, not only the customer's. Reversal keys are counted by their G/L
 * entries, which every reversal has (a fee-only reversal has no customer entry).
 */
export async function erpPostingStateWithGeneral(deps: ActivityDeps, paymentId: string): Promise<ErpPostingState> {
  const gl = await generalEntriesOf(deps, paymentId);
  const keys = [paymentId, ...gl.reversals.map((_, i) => reversalKey(paymentId, i + 1))];
  const entries = await deps.bc.findEntriesByExternalDocumentNumbers(keys);
  const state = postingStateOf(
    entries.filter((e) => e.externalDocumentNumber === paymentId),
    entries.filter((e) => e.externalDocumentNumber !== paymentId && keys.includes(e.externalDocumentNumber)),
  );
  return { ...state, reversals: Math.max(state.reversals, gl.reversals.length), general: generalPosting(gl.own, gl.reversals) };
}

/** The G/L entries of the payment's general document and of each reversal key taken (read on while all are taken). */
async function generalEntriesOf(deps: ActivityDeps, paymentId: string): Promise<{ own: BcGlEntry[]; reversals: BcGlEntry[][] }> {
  const docs = (from: number) => reversalKeys(paymentId, from).map(generalDocumentNumber);
  const ownDoc = generalDocumentNumber(paymentId);
  let read = await deps.bc.findGeneralLedgerEntriesOf([ownDoc, ...docs(1)]);
  const own = read.filter((e) => e.documentNumber === ownDoc);
  const reversals: BcGlEntry[][] = [];
  for (let n = 1; ; n++) {
    const doc = generalDocumentNumber(reversalKey(paymentId, n));
    const found = read.filter((e) => e.documentNumber === doc);
    if (found.length === 0) break;
    reversals.push(found);
    if (n % REVERSALS_READ_AHEAD === 0) read = await deps.bc.findGeneralLedgerEntriesOf(docs(n + 1));
  }
  return { own, reversals };
}

/** A journal line as its two G/L entries show it: the account's entry, then its balancing entry (posting order). */
interface GlLine {
  account: string;
  balancingAccount: string;
  /** Signed like a journal amount: negative credits the account. */
  minor: number;
}

function glLines(entries: readonly BcGlEntry[]): GlLine[] | null {
  const sorted = [...entries].sort((a, b) => a.entryNumber - b.entryNumber);
  if (sorted.length % 2 !== 0) return null;
  const lines: GlLine[] = [];
  for (let i = 0; i < sorted.length; i += 2) {
    const [a, b] = [sorted[i]!, sorted[i + 1]!];
    const minor = a.debit.minor - a.credit.minor;
    if (minor === 0 || b.debit.minor - b.credit.minor !== -minor) return null;
    lines.push({ account: a.accountNumber, balancingAccount: b.accountNumber, minor });
  }
  return lines;
}

/**
 * The fee side of a positive payment's posting: its own general document credits G/L accounts only with fee and
 * excess lines (a move to the payment method's account debits it), and reversals debit those accounts back.
 */
function generalPosting(own: readonly BcGlEntry[], reversals: readonly BcGlEntry[][]): ErpGeneralPosting {
  const posted = glLines(own);
  if (!posted) return { feeLines: [], feeReversedMinor: 0, unclear: `the G/L entries of the payment's posting do not pair into lines (${own.length} entries)` };
  const feeLines: FeeLine[] = [];
  for (const l of posted.filter((x) => x.minor < 0)) {
    const same = feeLines.find((f) => f.account === l.account && f.balancingAccount === l.balancingAccount);
    if (same) same.amountMinor -= l.minor;
    else feeLines.push({ account: l.account, balancingAccount: l.balancingAccount, amountMinor: -l.minor });
  }
  const accounts = new Set(feeLines.map((f) => f.account));
  let feeReversedMinor = 0;
  for (const [i, entries] of reversals.entries()) {
    const lines = glLines(entries);
    if (!lines) return { feeLines, feeReversedMinor, unclear: `the G/L entries of reversal ${i + 1} do not pair into lines (${entries.length} entries)` };
    feeReversedMinor += lines.filter((l) => l.minor > 0 && accounts.has(l.account)).reduce((s, l) => s + l.minor, 0);
  }
  return { feeLines, feeReversedMinor };
}

/** `erpPostingState` of several payments, their first keys read together (one query per five payments, not one each). */
export async function erpPostingStates(deps: ActivityDeps, paymentIds: readonly string[]): Promise<Map<string, ErpPostingState>> {
  const ids = [...new Set(paymentIds)];
  const entries = ids.length ? await deps.bc.findEntriesByExternalDocumentNumbers(ids.flatMap(firstKeys)) : [];
  const out = new Map<string, ErpPostingState>();
  for (const id of ids) out.set(id, await postingStateFrom(deps, id, entries));
  return out;
}

/**
 * Whether a closed ERP invoice was closed by credit memos (credited) rather than by payments. The standard API has no
 * application link (contracts/business-central.md §5), so a credit memo counts when its ledger entry names the invoice
 * in its external document number or description (as a corrective credit memo "Correction of <invoice>" does), and it
 * is for the invoice's customer and changed since the day before the invoice was posted. Only memos that credit the
 * whole invoice make it credited: one for part of it (a price correction, then the rest paid) is an application like a
 * payment, which the portal gets as a payment, and the invoice is paid, not cancelled.
 */
export async function creditedInErp(deps: Pick<ActivityDeps, 'bc'>, inv: BcSalesInvoice): Promise<boolean> {
  return (await creditChecks(deps, [inv]))(inv);
}

/** The credit check of `creditedInErp` for several invoices, with one read of the credit memos for all of them. */
export async function creditChecks(deps: Pick<ActivityDeps, 'bc'>, invs: readonly BcSalesInvoice[]): Promise<(inv: BcSalesInvoice) => boolean> {
  const paid = invs.filter((i) => erpStatus(i) === 'paid');
  if (paid.length === 0) return () => false;
  const memos = await deps.bc.listCustomerLedgerEntriesSince(new Date(Math.min(...paid.map(creditsFromMs))).toISOString(), { documentType: 'Credit Memo' });
  return (inv) => {
    if (erpStatus(inv) !== 'paid') return false;
    const fromMs = creditsFromMs(inv);
    const customer = inv.billToCustomerNumber || inv.customerNumber;
    const names = new RegExp(`(^|[^A-Za-z0-9-])${inv.number.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9-])`);
    const creditedMinor = memos
      .filter((e) => Date.parse(e.lastModifiedDateTime) > fromMs && e.customerNumber === customer && (e.externalDocumentNumber === inv.number || names.test(e.description)))
      .reduce((sum, e) => sum + Math.abs(e.amount.minor), 0);
    return creditedMinor > 0 && creditedMinor >= inv.totalIncludingTax.minor;
  };
}

/** Credit memos count from the day before the invoice was posted. */
function creditsFromMs(inv: BcSalesInvoice): number {
  const postedMs = Date.parse(inv.postingDate || inv.invoiceDate);
  return (Number.isNaN(postedMs) ? 0 : postedMs) - 86_400_000;
}

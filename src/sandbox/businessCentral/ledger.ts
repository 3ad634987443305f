import { randomUUID } from 'node:crypto';
import { BcError, dialog, fieldValidation } from './bcError';
import { nowIso, today } from './clock';
import type {
  ApplicationRec,
  BcState,
  CleDocumentType,
  CompanyRec,
  CustomerRec,
  JournalBatchRec,
  JournalLineRec,
  LedgerEntryRec,
  SalesInvoiceRec,
} from './model';
import { computeDocument } from './tax';
import { exponentOf, formatDecimal } from '../../domain/money';

// The sandbox's posting engine: sales invoices, customer payments and their applications, unapplication, cancel and
// credit memos. It keeps Business Central's observable rules: a journal batch posts all of its lines or none,
// invoice status is derived from the invoice's ledger entry, and an invoice's lastModifiedDateTime moves only when
// its status changes (partial payments do not touch it), while the ledger entries move on every (un)application.

export type ChangeType = 'created' | 'updated' | 'deleted';
export interface ChangeEvent {
  companyId: string;
  entitySet: string;
  id: string;
  changeType: ChangeType;
  at: string;
}

export interface Ctx {
  state: BcState;
  emit(ev: ChangeEvent): void;
  /** Set inside a transaction: a nested one runs as part of it (one snapshot, not one per level). */
  inTransaction?: boolean;
}

/** Receivables / sales / tax G/L accounts used for the generated G/L entries (seeded chart of accounts). */
export const RECEIVABLES_ACCOUNT = '13100';
export const SALES_ACCOUNT = '40100';
export const TAX_ACCOUNT = '23100';

/**
 * Runs `fn` as one database transaction: on any error the state is restored and no notification is sent, so a
 * failing batch post leaves nothing behind.
 */
export function transaction<T>(ctx: Ctx, fn: (tx: Ctx) => T): T {
  if (ctx.inTransaction) return fn(ctx);
  const snapshot = structuredClone(ctx.state);
  const events: ChangeEvent[] = [];
  try {
    const result = fn({ state: ctx.state, emit: (ev) => events.push(ev), inTransaction: true });
    for (const ev of events) ctx.emit(ev);
    return result;
  } catch (err) {
    Object.assign(ctx.state, snapshot);
    throw err;
  }
}

export function companyOf(state: BcState, companyId: string): CompanyRec {
  const c = state.companies.find((x) => x.id === companyId);
  if (!c) throw new BcError(404, 'BadRequest_NotFound', `The company ${companyId} does not exist.`);
  return c;
}

export function findCustomer(state: BcState, companyId: string, number: string): CustomerRec | undefined {
  return state.customers.find((c) => c.companyId === companyId && c.number === number);
}

export function invoiceEntry(state: BcState, inv: SalesInvoiceRec): LedgerEntryRec | undefined {
  if (!inv.posted) return undefined;
  return state.ledgerEntries.find(
    (e) =>
      e.companyId === inv.companyId &&
      e.documentType === 'Invoice' &&
      e.documentNumber === inv.number &&
      e.customerNumber === inv.billToCustomerNumber,
  );
}

const activeApps = (state: BcState, companyId: string) => state.applications.filter((a) => a.companyId === companyId && !a.unapplied);

/** Remaining amount of a ledger entry, signed like the entry. */
export function remainingOf(state: BcState, entry: LedgerEntryRec): number {
  let remaining = entry.amountMinor;
  for (const a of activeApps(state, entry.companyId)) {
    if (a.invoiceEntryNumber === entry.entryNumber) remaining -= a.amountMinor;
    if (a.creditEntryNumber === entry.entryNumber) remaining += a.amountMinor;
  }
  return remaining;
}

export type InvoiceStatus = 'Draft' | 'Open' | 'Paid' | 'Canceled' | 'Corrective';

export function invoiceStatus(state: BcState, inv: SalesInvoiceRec): InvoiceStatus {
  if (!inv.posted) return inv.released ? 'Open' : 'Draft';
  if (inv.canceled) return 'Canceled';
  if (inv.corrective) return 'Corrective';
  const e = invoiceEntry(state, inv);
  return e && remainingOf(state, e) === 0 ? 'Paid' : 'Open';
}

export function invoiceRemaining(state: BcState, inv: SalesInvoiceRec): number {
  if (!inv.posted) return inv.totalInclMinor;
  if (inv.canceled) return 0;
  const e = invoiceEntry(state, inv);
  return e ? remainingOf(state, e) : 0;
}

/** Calls `fn`, then touches and notifies every given invoice whose status changed. */
function watchStatus<T>(ctx: Ctx, invoices: SalesInvoiceRec[], fn: () => T): T {
  const before = invoices.map((inv) => invoiceStatus(ctx.state, inv));
  const result = fn();
  invoices.forEach((inv, i) => {
    if (invoiceStatus(ctx.state, inv) !== before[i]) {
      inv.lastModifiedDateTime = nowIso();
      ctx.emit({ companyId: inv.companyId, entitySet: 'salesInvoices', id: inv.id, changeType: 'updated', at: inv.lastModifiedDateTime });
    }
  });
  return result;
}

function nextEntryNo(state: BcState): number {
  return ++state.counters.entryNo;
}

function addGlEntry(
  state: BcState,
  companyId: string,
  p: { postingDate: string; documentNumber: string; documentType: CleDocumentType; accountNumber: string; description: string; amountMinor: number },
) {
  if (p.amountMinor === 0) return;
  const at = nowIso();
  state.glEntries.push({
    id: randomUUID(),
    entryNumber: ++state.counters.glEntryNo,
    companyId,
    postingDate: p.postingDate,
    documentNumber: p.documentNumber,
    documentType: p.documentType,
    accountNumber: p.accountNumber,
    description: p.description,
    debitMinor: p.amountMinor > 0 ? p.amountMinor : 0,
    creditMinor: p.amountMinor < 0 ? -p.amountMinor : 0,
    createdAt: at,
    lastModifiedDateTime: at,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Sales invoices

export interface NewInvoiceLine {
  lineType?: 'Item' | 'Account' | 'Resource' | 'Comment';
  lineObjectNumber?: string;
  description: string;
  quantity: string;
  /** Decimal string, up to 5 places. */
  unitPrice: string;
  discountPercent?: string;
  taxPercent?: string;
  taxCode?: string;
  unitOfMeasureCode?: string;
}

export interface NewInvoice {
  companyId: string;
  customerNumber: string;
  lines: NewInvoiceLine[];
  invoiceDate?: string;
  postingDate?: string;
  dueDate?: string;
  externalDocumentNumber?: string;
  customerPurchaseOrderReference?: string;
  /** Leave the invoice as a draft (status Draft, no ledger entry). */
  draft?: boolean;
  /** An amount paid at posting (a payment posted together with the invoice and applied to it). */
  paidAtPostingMinor?: number;
}

export function createSalesInvoice(ctx: Ctx, input: NewInvoice): SalesInvoiceRec {
  return transaction(ctx, (tx) => {
    const { state } = tx;
    const customer = findCustomer(state, input.companyId, input.customerNumber);
    if (!customer) throw dialog(`The Customer does not exist. Identification fields and values: No.='${input.customerNumber}'`);
    if (input.lines.length === 0) throw dialog('There is nothing to post because the document does not contain a quantity or amount.');
    const amounts = computeDocument(
      input.lines.map((l) => ({
        lineType: l.lineType ?? 'Item',
        quantity: l.quantity,
        unitPrice: l.unitPrice,
        discountPercent: l.discountPercent ?? '0',
        taxPercent: l.taxPercent ?? '0',
      })),
      exponentOf(customer.currencyCode || companyOf(state, input.companyId).lcyCode),
    );
    const at = nowIso();
    const postingDate = input.postingDate ?? today();
    const inv: SalesInvoiceRec = {
      id: randomUUID(),
      companyId: input.companyId,
      number: `${input.draft ? 'S-INV' : 'PS-INV'}${++state.counters.invoiceNo}`,
      posted: false,
      canceled: false,
      corrective: false,
      externalDocumentNumber: input.externalDocumentNumber ?? '',
      customerPurchaseOrderReference: input.customerPurchaseOrderReference ?? '',
      customerNumber: customer.number,
      billToCustomerNumber: customer.number,
      invoiceDate: input.invoiceDate ?? postingDate,
      postingDate,
      dueDate: input.dueDate ?? postingDate,
      currencyCode: customer.currencyCode,
      pricesIncludeTax: false,
      lines: input.lines.map((l, i) => ({
        id: randomUUID(),
        sequence: (i + 1) * 10000,
        lineType: l.lineType ?? 'Item',
        lineObjectNumber: l.lineObjectNumber ?? '',
        description: l.description,
        unitOfMeasureCode: l.unitOfMeasureCode ?? (l.lineType === 'Comment' ? '' : 'PCS'),
        quantity: l.lineType === 'Comment' ? '0' : l.quantity,
        unitPrice: l.lineType === 'Comment' ? '0' : l.unitPrice,
        discountPercent: l.discountPercent ?? '0',
        taxPercent: l.taxPercent ?? '0',
        taxCode: l.taxCode ?? (l.taxPercent && l.taxPercent !== '0' ? 'TAXABLE' : 'NONTAXABLE'),
        ...amounts.lines[i],
      })),
      totalExclMinor: amounts.totalExclMinor,
      totalTaxMinor: amounts.totalTaxMinor,
      totalInclMinor: amounts.totalInclMinor,
      discountMinor: amounts.discountMinor,
      createdAt: at,
      lastModifiedDateTime: at,
    };
    state.salesInvoices.push(inv);
    tx.emit({ companyId: inv.companyId, entitySet: 'salesInvoices', id: inv.id, changeType: 'created', at });
    if (!input.draft) postDraftInvoice(tx, inv, input.paidAtPostingMinor);
    return inv;
  });
}

/** Releases a draft: still unposted (no ledger entry), yet read as `Open`, as BC's invoice aggregate reads a Released or Pending Prepayment draft. */
export function releaseDraftInvoice(ctx: Ctx, inv: SalesInvoiceRec): SalesInvoiceRec {
  return transaction(ctx, (tx) => {
    if (inv.posted) throw dialog(`Sales invoice ${inv.number} is already posted.`);
    inv.released = true;
    inv.lastModifiedDateTime = nowIso();
    tx.emit({ companyId: inv.companyId, entitySet: 'salesInvoices', id: inv.id, changeType: 'updated', at: inv.lastModifiedDateTime });
    return inv;
  });
}

/** Posts a draft: same id (the aggregate row is renamed), a posted number, a ledger entry and G/L entries. */
export function postDraftInvoice(ctx: Ctx, inv: SalesInvoiceRec, paidAtPostingMinor?: number): SalesInvoiceRec {
  return transaction(ctx, (tx) => {
    const { state } = tx;
    if (inv.posted) throw dialog(`Sales invoice ${inv.number} is already posted.`);
    if (inv.totalInclMinor <= 0) throw dialog('There is nothing to post because the document does not contain a quantity or amount.');
    const customer = findCustomer(state, inv.companyId, inv.customerNumber);
    if (!customer) throw dialog(`The Customer does not exist. Identification fields and values: No.='${inv.customerNumber}'`);
    if (customer.blocked === 'All' || customer.blocked === 'Invoice')
      throw dialog(`You cannot post this type of document when Customer ${customer.number} is blocked with type ${customer.blocked}`);
    inv.number = inv.number.replace(/^S-INV/, 'PS-INV');
    inv.posted = true;
    const at = nowIso();
    inv.lastModifiedDateTime = at;
    state.ledgerEntries.push({
      entryNumber: nextEntryNo(state),
      companyId: inv.companyId,
      customerNumber: inv.billToCustomerNumber,
      documentType: 'Invoice',
      documentNumber: inv.number,
      externalDocumentNumber: inv.externalDocumentNumber,
      description: `Invoice ${inv.number}`,
      postingDate: inv.postingDate,
      amountMinor: inv.totalInclMinor,
      currencyCode: inv.currencyCode,
      balancingAccountType: '',
      balancingAccountNumber: '',
      yourReference: inv.customerPurchaseOrderReference,
      createdAt: at,
      lastModifiedDateTime: at,
    });
    const gl = { postingDate: inv.postingDate, documentNumber: inv.number, documentType: 'Invoice' as const, description: `Invoice ${inv.number}` };
    addGlEntry(state, inv.companyId, { ...gl, accountNumber: RECEIVABLES_ACCOUNT, amountMinor: inv.totalInclMinor });
    addGlEntry(state, inv.companyId, { ...gl, accountNumber: SALES_ACCOUNT, amountMinor: -inv.totalExclMinor });
    addGlEntry(state, inv.companyId, { ...gl, accountNumber: TAX_ACCOUNT, amountMinor: -inv.totalTaxMinor });
    tx.emit({ companyId: inv.companyId, entitySet: 'salesInvoices', id: inv.id, changeType: 'updated', at });
    if (paidAtPostingMinor && paidAtPostingMinor > 0) {
      if (paidAtPostingMinor > inv.totalInclMinor) throw dialog('The amount paid at posting cannot exceed the invoice amount.');
      const method = state.paymentMethods.find((m) => m.companyId === inv.companyId && m.code === customer.paymentMethodCode);
      postCustomerLine(tx, {
        companyId: inv.companyId,
        customerNumber: customer.number,
        documentType: 'Payment',
        documentNumber: inv.number,
        externalDocumentNumber: '',
        description: `Payment at posting ${inv.number}`,
        postingDate: inv.postingDate,
        amountMinor: -paidAtPostingMinor,
        balAccountType: 'G/L Account',
        balAccountNumber: method?.balAccountNumber || '10100',
        appliesToInvoiceNumber: inv.number,
      });
    }
    return inv;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Customer postings (payments, refunds, credit memos)

export interface CustomerPosting {
  companyId: string;
  customerNumber: string;
  documentType: CleDocumentType;
  documentNumber: string;
  externalDocumentNumber: string;
  description: string;
  postingDate: string;
  amountMinor: number;
  balAccountType: '' | 'G/L Account' | 'Bank Account';
  balAccountNumber: string;
  appliesToInvoiceNumber: string;
  /** Where validation errors point (the journal line), for BC-like messages. */
  lineRef?: string;
}

function openInvoiceEntryFor(state: BcState, p: CustomerPosting): { entry: LedgerEntryRec; invoice?: SalesInvoiceRec } {
  const entry = state.ledgerEntries.find(
    (e) =>
      e.companyId === p.companyId &&
      e.documentType === 'Invoice' &&
      e.documentNumber === p.appliesToInvoiceNumber &&
      e.customerNumber === p.customerNumber,
  );
  if (!entry || remainingOf(state, entry) === 0)
    throw dialog(
      `There is no open Cust. Ledger Entry with Document Type Invoice and Document No. ${p.appliesToInvoiceNumber} for Customer ${p.customerNumber}.`,
    );
  const invoice = state.salesInvoices.find((i) => i.companyId === p.companyId && i.number === entry.documentNumber);
  return { entry, invoice };
}

/** Posts one customer line: a ledger entry, G/L entries and, with an applies-to invoice, the application. */
export function postCustomerLine(ctx: Ctx, p: CustomerPosting): LedgerEntryRec {
  const { state } = ctx;
  const customer = findCustomer(state, p.companyId, p.customerNumber);
  if (!customer) throw dialog(`The Customer does not exist. Identification fields and values: No.='${p.customerNumber}'`);
  if (customer.blocked === 'All') throw dialog(`You cannot post this type of document when Customer ${customer.number} is blocked with type All`);
  const target = p.appliesToInvoiceNumber ? openInvoiceEntryFor(state, p) : undefined;
  if (target && target.entry.currencyCode !== customer.currencyCode)
    throw dialog(
      `The currency of the payment (${customer.currencyCode || 'LCY'}) differs from the currency of invoice ${p.appliesToInvoiceNumber} (${target.entry.currencyCode || 'LCY'}).`,
    );
  const at = nowIso();
  const entry: LedgerEntryRec = {
    entryNumber: nextEntryNo(state),
    companyId: p.companyId,
    customerNumber: p.customerNumber,
    documentType: p.documentType,
    documentNumber: p.documentNumber,
    externalDocumentNumber: p.externalDocumentNumber,
    description: p.description || `${p.documentType || 'Entry'} ${p.documentNumber}`,
    postingDate: p.postingDate,
    amountMinor: p.amountMinor,
    currencyCode: customer.currencyCode,
    balancingAccountType: p.balAccountType,
    balancingAccountNumber: p.balAccountNumber,
    yourReference: '',
    createdAt: at,
    lastModifiedDateTime: at,
  };
  state.ledgerEntries.push(entry);
  const gl = { postingDate: p.postingDate, documentNumber: p.documentNumber, documentType: p.documentType, description: entry.description };
  addGlEntry(state, p.companyId, { ...gl, accountNumber: RECEIVABLES_ACCOUNT, amountMinor: p.amountMinor });
  if (p.balAccountNumber) addGlEntry(state, p.companyId, { ...gl, accountNumber: p.balAccountNumber, amountMinor: -p.amountMinor });
  if (target && p.amountMinor < 0) {
    const invoices = target.invoice ? [target.invoice] : [];
    watchStatus(ctx, invoices, () => applyEntries(state, target.entry, entry, p.postingDate));
  }
  return entry;
}

/** Applies a credit entry to an invoice entry for as much as both have open; both entries' timestamps move. */
function applyEntries(state: BcState, invoiceEntry: LedgerEntryRec, creditEntry: LedgerEntryRec, postingDate: string): ApplicationRec | undefined {
  const amount = Math.min(remainingOf(state, invoiceEntry), -remainingOf(state, creditEntry));
  if (amount <= 0) return undefined;
  const at = nowIso();
  const app: ApplicationRec = {
    entryNumber: nextEntryNo(state),
    companyId: invoiceEntry.companyId,
    invoiceEntryNumber: invoiceEntry.entryNumber,
    creditEntryNumber: creditEntry.entryNumber,
    amountMinor: amount,
    postingDate,
    unapplied: false,
    createdAt: at,
  };
  state.applications.push(app);
  invoiceEntry.lastModifiedDateTime = at;
  creditEntry.lastModifiedDateTime = at;
  return app;
}

/** Unapplies every active application of a payment (or credit memo) entry; invoices reopen. */
export function unapplyEntry(ctx: Ctx, companyId: string, creditEntryNumber: number): ApplicationRec[] {
  return transaction(ctx, (tx) => {
    const { state } = tx;
    const apps = activeApps(state, companyId).filter((a) => a.creditEntryNumber === creditEntryNumber);
    if (apps.length === 0) throw dialog(`Cust. Ledger Entry ${creditEntryNumber} has no applications to unapply.`);
    const entries = (n: number) => state.ledgerEntries.find((e) => e.companyId === companyId && e.entryNumber === n)!;
    const invoices = apps
      .map((a) => entries(a.invoiceEntryNumber))
      .map((e) => state.salesInvoices.find((i) => i.companyId === companyId && i.number === e.documentNumber))
      .filter((i): i is SalesInvoiceRec => !!i);
    if (invoices.some((i) => i.canceled)) throw dialog('You cannot unapply the entry because it belongs to a cancelled invoice.');
    watchStatus(tx, invoices, () => {
      const at = nowIso();
      for (const a of apps) {
        a.unapplied = true;
        entries(a.invoiceEntryNumber).lastModifiedDateTime = at;
        entries(a.creditEntryNumber).lastModifiedDateTime = at;
      }
    });
    return apps;
  });
}

export function applicationsOf(state: BcState, companyId: string): ApplicationRec[] {
  return state.applications.filter((a) => a.companyId === companyId);
}

/** Cancels a posted invoice (corrective credit memo for the full amount); refused when it is partly or fully paid. */
export function cancelInvoice(ctx: Ctx, inv: SalesInvoiceRec): SalesInvoiceRec {
  return transaction(ctx, (tx) => {
    const { state } = tx;
    if (!inv.posted) throw dialog(`Sales invoice ${inv.number} is not posted.`);
    if (inv.canceled) throw dialog(`Posted sales invoice ${inv.number} is already cancelled.`);
    const entry = invoiceEntry(state, inv);
    if (!entry || remainingOf(state, entry) !== entry.amountMinor)
      throw dialog(`You cannot cancel this posted sales invoice because it is fully or partially paid.`);
    creditMemoFor(tx, inv, entry, inv.totalInclMinor, 'Cancellation of');
    inv.canceled = true;
    inv.lastModifiedDateTime = nowIso();
    tx.emit({ companyId: inv.companyId, entitySet: 'salesInvoices', id: inv.id, changeType: 'updated', at: inv.lastModifiedDateTime });
    return inv;
  });
}

/** Posts a corrective credit memo applied to the invoice (full or partial); a full credit closes the invoice (Paid). */
export function creditInvoice(ctx: Ctx, inv: SalesInvoiceRec, amountMinor?: number): LedgerEntryRec {
  return transaction(ctx, (tx) => {
    const { state } = tx;
    const entry = invoiceEntry(state, inv);
    if (!entry || inv.canceled) throw dialog(`Sales invoice ${inv.number} is not an open posted invoice.`);
    const remaining = remainingOf(state, entry);
    const amount = amountMinor ?? remaining;
    if (amount <= 0 || amount > remaining) throw dialog(`The credit amount must be between 0.01 and the remaining amount of invoice ${inv.number}.`);
    return watchStatus(tx, [inv], () => creditMemoFor(tx, inv, entry, amount, 'Correction of'));
  });
}

function creditMemoFor(ctx: Ctx, inv: SalesInvoiceRec, entry: LedgerEntryRec, amountMinor: number, what: string): LedgerEntryRec {
  const { state } = ctx;
  const number = `PS-CR${++state.counters.creditMemoNo}`;
  const at = nowIso();
  const memo: LedgerEntryRec = {
    entryNumber: nextEntryNo(state),
    companyId: inv.companyId,
    customerNumber: inv.billToCustomerNumber,
    documentType: 'Credit Memo',
    documentNumber: number,
    externalDocumentNumber: '',
    description: `${what} ${inv.number}`,
    postingDate: today(),
    amountMinor: -amountMinor,
    currencyCode: inv.currencyCode,
    balancingAccountType: '',
    balancingAccountNumber: '',
    yourReference: '',
    createdAt: at,
    lastModifiedDateTime: at,
  };
  state.ledgerEntries.push(memo);
  addGlEntry(state, inv.companyId, { postingDate: memo.postingDate, documentNumber: number, documentType: 'Credit Memo', description: memo.description, accountNumber: RECEIVABLES_ACCOUNT, amountMinor: -amountMinor });
  addGlEntry(state, inv.companyId, { postingDate: memo.postingDate, documentNumber: number, documentType: 'Credit Memo', description: memo.description, accountNumber: SALES_ACCOUNT, amountMinor });
  applyEntries(state, entry, memo, memo.postingDate);
  return memo;
}

// ---------------------------------------------------------------------------------------------------------------
// Journals

export function nextDocumentNo(batch: JournalBatchRec): string {
  return `${batch.noSeriesPrefix}${String(batch.nextNo++).padStart(5, '0')}`;
}

function lineRef(batch: JournalBatchRec, line: JournalLineRec): string {
  return `Gen. Journal Line Journal Template Name='${batch.template}',Journal Batch Name='${batch.code}',Line No.='${line.lineNumber}'`;
}

/** Posts every line of the batch in one transaction (Gen. Jnl.-Post): all lines post, or none do. */
export function postBatch(ctx: Ctx, batch: JournalBatchRec): LedgerEntryRec[] {
  return transaction(ctx, (tx) => {
    const { state } = tx;
    const lines = state.journalLines.filter((l) => l.batchId === batch.id).sort((a, b) => a.lineNumber - b.lineNumber);
    if (lines.length === 0) throw dialog('There is nothing to post.');
    const posted: LedgerEntryRec[] = [];
    for (const line of lines) {
      const ref = lineRef(batch, line);
      if (!line.postingDate) throw fieldValidation(`Posting Date must have a value in ${ref}. It cannot be zero or empty.`);
      if (!line.documentNumber) throw fieldValidation(`Document No. must have a value in ${ref}. It cannot be zero or empty.`);
      if (!line.accountNumber) throw fieldValidation(`Account No. must have a value in ${ref}. It cannot be zero or empty.`);
      if (line.amountMinor === 0) throw fieldValidation(`Amount must have a value in ${ref}. It cannot be zero or empty.`);
      if (line.documentType === 'Payment' && line.accountType === 'Customer' && line.amountMinor > 0)
        throw fieldValidation(`Amount must be negative in ${ref}.`);
      if (!line.balAccountNumber) {
        const company = companyOf(state, batch.companyId);
        throw dialog(
          `Document No. ${line.documentNumber} is out of balance by ${formatDecimal(line.amountMinor, company.lcyCode)} ${company.lcyCode}. Please check that Posting Date, Document Type, Document No. and amounts are correct for each line.`,
        );
      }
      if (line.accountType === 'Customer') {
        posted.push(
          postCustomerLine(tx, {
            companyId: batch.companyId,
            customerNumber: line.accountNumber,
            documentType: line.documentType,
            documentNumber: line.documentNumber,
            externalDocumentNumber: line.externalDocumentNumber,
            description: line.description,
            postingDate: line.postingDate,
            amountMinor: line.amountMinor,
            balAccountType: line.balAccountType,
            balAccountNumber: line.balAccountNumber,
            appliesToInvoiceNumber: line.appliesToInvoiceNumber,
            lineRef: ref,
          }),
        );
      } else if (line.accountType === 'G/L Account' || line.accountType === 'Bank Account') {
        if (line.accountType === 'G/L Account' && !state.glAccounts.some((a) => a.companyId === batch.companyId && a.number === line.accountNumber))
          throw dialog(`The G/L Account does not exist. Identification fields and values: No.='${line.accountNumber}'`);
        const gl = { postingDate: line.postingDate, documentNumber: line.documentNumber, documentType: line.documentType, description: line.description };
        addGlEntry(state, batch.companyId, { ...gl, accountNumber: line.accountNumber, amountMinor: line.amountMinor });
        addGlEntry(state, batch.companyId, { ...gl, accountNumber: line.balAccountNumber, amountMinor: -line.amountMinor });
      } else {
        throw dialog(`Account Type ${line.accountType} cannot be posted in this sandbox (${ref}).`);
      }
    }
    state.journalLines = state.journalLines.filter((l) => l.batchId !== batch.id);
    batch.lastModifiedDateTime = nowIso();
    return posted;
  });
}

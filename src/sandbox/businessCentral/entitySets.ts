import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { parseDecimal } from '../../domain/money';
import { BcError, badRequest, notFound } from './bcError';
import { nowIso, today } from './clock';
import { companyOf, nextDocumentNo, postBatch, invoiceStatus, type Ctx } from './ledger';
import type { CompanyRec, JournalBatchRec, JournalLineRec } from './model';
import { equalityValue, equalityValues, type FilterNode, type Row } from './odata';
import * as s from './serialize';

// The entity sets of the API subset: how each one lists, finds, creates, updates, deletes, expands and which bound
// actions it has. The HTTP layer (api.ts) does routing, OData options, ETags and paging on top of these.

export interface ReqCtx extends Ctx {
  company: CompanyRec;
  touch(): void;
}

export interface ParentRef {
  set: string;
  id: string;
}

export interface Media {
  contentType: string;
  data: Buffer;
}

export interface SetDef {
  entityType: string;
  rows(c: ReqCtx, parent: ParentRef | undefined, filter: FilterNode | undefined): Row[];
  /** Child collections reachable as `set(id)/nav` and `$expand=nav`, mapped to their set names. */
  navs?: Record<string, string>;
  /** Single-valued navigations for `$expand=nav` (an object or null, not a list), e.g. an invoice's `customer`. */
  refs?: Record<string, (c: ReqCtx, row: Row) => Row | null>;
  /** Fields that are page variables in BC and cannot be filtered. */
  unfilterable?: string[];
  create?(c: ReqCtx, body: unknown, parent: ParentRef | undefined): Row;
  patch?(c: ReqCtx, id: string, body: unknown): Row;
  remove?(c: ReqCtx, id: string): void;
  actions?: Record<string, (c: ReqCtx, id: string) => void>;
  media?: Record<string, (c: ReqCtx, id: string) => Media>;
}

const inCompany = <T extends { companyId: string }>(c: ReqCtx, list: T[]) => list.filter((x) => x.companyId === c.company.id);

/** Parses a request body with zod and turns the first problem into a BC-shaped 400 naming the property. */
function parseBody<S extends z.ZodType>(schema: S, body: unknown, entityType: string): z.output<S> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue.code === 'unrecognized_keys')
    throw badRequest(`The property '${issue.keys[0]}' does not exist on type 'Microsoft.NAV.${entityType}'. Make sure to only use property names that are defined by the type.`);
  throw badRequest(`Cannot convert the literal for property '${issue.path.join('.')}' of type 'Microsoft.NAV.${entityType}': ${issue.message}.`);
}

const decimalInput = z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/)]);
const guid = z.string().regex(/^[0-9a-fA-F-]{36}$/, 'expected a GUID');
const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date yyyy-mm-dd');
const ETAG_FIELD = { '@odata.etag': z.string().optional() };

function lcyAmount(c: ReqCtx, value: number | string, currency: string): number {
  try {
    return parseDecimal(value, currency || c.company.lcyCode);
  } catch (err) {
    throw badRequest(`The value '${value}' is not a valid amount: ${(err as Error).message}`);
  }
}

function batchFor(c: ReqCtx, template: JournalBatchRec['template'] | undefined, id: string | undefined, missing: string): JournalBatchRec {
  if (!id) throw badRequest(missing);
  const batch = c.state.journalBatches.find((b) => b.companyId === c.company.id && b.id === id.toLowerCase());
  if (!batch || (template && batch.template !== template)) throw notFound(`journal batch ${id}`);
  return batch;
}

function lineOf(c: ReqCtx, id: string, documentType: JournalLineRec['documentType']): JournalLineRec {
  const line = c.state.journalLines.find((l) => l.companyId === c.company.id && l.id === id && l.documentType === documentType);
  if (!line) throw notFound(`journal line ${id}`);
  return line;
}

function nextLineNumber(c: ReqCtx, batch: JournalBatchRec): number {
  const max = c.state.journalLines.filter((l) => l.batchId === batch.id).reduce((m, l) => Math.max(m, l.lineNumber), 0);
  return max + 10000;
}

/** A blank line at the end of the batch, with the batch's balancing account; the caller fills in the body's fields. */
function newJournalLine(c: ReqCtx, batch: JournalBatchRec, documentType: JournalLineRec['documentType'], accountType: JournalLineRec['accountType']): JournalLineRec {
  const at = nowIso();
  return {
    id: randomUUID(),
    companyId: c.company.id,
    batchId: batch.id,
    lineNumber: nextLineNumber(c, batch),
    documentType,
    accountType,
    accountNumber: '',
    postingDate: today(),
    documentNumber: '',
    externalDocumentNumber: '',
    amountMinor: 0,
    appliesToInvoiceNumber: '',
    description: '',
    comment: '',
    balAccountType: batch.balAccountType,
    balAccountNumber: batch.balAccountNumber,
    createdAt: at,
    lastModifiedDateTime: at,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// customerPayments

/** PATCH and DELETE of a journal line: the same rules for cash receipt lines and general journal lines. */
function lineEditing<B extends { journalId?: string }>(
  documentType: JournalLineRec['documentType'],
  parse: (body: unknown) => B,
  apply: (c: ReqCtx, line: JournalLineRec, b: B) => void,
  toJson: (state: ReqCtx['state'], line: JournalLineRec) => Row,
): Pick<SetDef, 'patch' | 'remove'> {
  return {
    patch(c, id, body) {
      const b = parse(body);
      const line = lineOf(c, id, documentType);
      if (b.journalId !== undefined && b.journalId.toLowerCase() !== line.batchId) throw badRequest("The Journal Batch Id isn't editable.");
      apply(c, line, b);
      line.lastModifiedDateTime = nowIso();
      c.touch();
      return toJson(c.state, line);
    },
    remove(c, id) {
      const line = lineOf(c, id, documentType);
      c.state.journalLines = c.state.journalLines.filter((l) => l !== line);
      c.touch();
    },
  };
}

const customerPaymentBody = z
  .object({
    ...ETAG_FIELD,
    journalId: guid.optional(),
    lineNumber: z.number().int().positive().optional(),
    customerId: guid.optional(),
    customerNumber: z.string().max(20).optional(),
    postingDate: date.optional(),
    documentNumber: z.string().max(20).optional(),
    externalDocumentNumber: z.string().max(35).optional(),
    amount: decimalInput.optional(),
    appliesToInvoiceId: guid.optional(),
    appliesToInvoiceNumber: z.string().max(20).optional(),
    description: z.string().max(100).optional(),
    comment: z.string().max(250).optional(),
  })
  .strict();
type CustomerPaymentBody = z.infer<typeof customerPaymentBody>;

function applyCustomerPaymentFields(c: ReqCtx, line: JournalLineRec, b: CustomerPaymentBody) {
  const customers = inCompany(c, c.state.customers);
  if (b.customerId !== undefined) {
    const cust = customers.find((x) => x.id === b.customerId!.toLowerCase());
    if (!cust && b.customerId !== s.NULL_GUID) throw badRequest('The "customerId" does not match to a Customer.');
    if (cust && b.customerNumber !== undefined && b.customerNumber !== cust.number) throw badRequest('The customer values do not match to a specific Customer.');
    line.accountNumber = cust?.number ?? '';
  } else if (b.customerNumber !== undefined) {
    if (b.customerNumber !== '' && !customers.some((x) => x.number === b.customerNumber)) throw badRequest('The "customerNumber" does not match to a Customer.');
    line.accountNumber = b.customerNumber;
  }
  const invoices = inCompany(c, c.state.salesInvoices);
  if (b.appliesToInvoiceId !== undefined) {
    if (b.appliesToInvoiceId === s.NULL_GUID) line.appliesToInvoiceNumber = '';
    else {
      const inv = invoices.find((i) => i.id === b.appliesToInvoiceId!.toLowerCase());
      if (!inv || invoiceStatus(c.state, inv) === 'Draft')
        throw badRequest('The "appliesToInvoiceId" should be the ID of an Open, Paid, Corrective, or Canceled Invoice.');
      line.appliesToInvoiceNumber = inv.number;
      if (!line.accountNumber) line.accountNumber = inv.billToCustomerNumber;
    }
  } else if (b.appliesToInvoiceNumber !== undefined) {
    if (b.appliesToInvoiceNumber !== '') {
      const inv = invoices.find((i) => i.number === b.appliesToInvoiceNumber && i.posted);
      if (!inv) throw badRequest('The "appliesToInvoiceNumber" should be the number of an Open, Paid, Corrective, or Canceled Invoice.');
      if (!line.accountNumber) line.accountNumber = inv.billToCustomerNumber;
    }
    line.appliesToInvoiceNumber = b.appliesToInvoiceNumber;
  }
  const customer = customers.find((x) => x.number === line.accountNumber);
  if (b.postingDate !== undefined) line.postingDate = b.postingDate;
  if (b.documentNumber !== undefined) line.documentNumber = b.documentNumber;
  if (b.externalDocumentNumber !== undefined) line.externalDocumentNumber = b.externalDocumentNumber;
  if (b.amount !== undefined) line.amountMinor = lcyAmount(c, b.amount, customer?.currencyCode ?? '');
  if (b.description !== undefined) line.description = b.description;
  else if (!line.description && customer) line.description = customer.displayName;
  if (b.comment !== undefined) line.comment = b.comment;
  if (b.lineNumber !== undefined) line.lineNumber = b.lineNumber;
}

const customerPayments: SetDef = {
  entityType: 'customerPayment',
  rows(c, parent, filter) {
    const journalId = parent?.id ?? equalityValue(filter, 'journalId') ?? equalityValue(filter, 'id');
    if (!journalId) throw badRequest('You must specify a journal batch ID or a journal ID to get a journal line.');
    return inCompany(c, c.state.journalLines)
      .filter((l) => l.documentType === 'Payment' && (parent || equalityValue(filter, 'journalId') ? l.batchId === journalId.toLowerCase() : true))
      .sort((a, b) => a.lineNumber - b.lineNumber)
      .map((l) => s.customerPaymentJson(c.state, l));
  },
  create(c, body, parent) {
    const b = parseBody(customerPaymentBody, body, 'customerPayment');
    const batch = batchFor(c, 'CASHRCPT', parent?.id ?? b.journalId, 'You must specify a journal batch ID or a journal ID to create a journal line.');
    const line = newJournalLine(c, batch, 'Payment', 'Customer');
    applyCustomerPaymentFields(c, line, b);
    if (c.state.journalLines.some((l) => l.batchId === batch.id && l.lineNumber === line.lineNumber))
      throw new BcError(400, 'Internal_EntityWithSameKeyExists', `The record in table Gen. Journal Line already exists. Identification fields and values: Journal Template Name='${batch.template}',Journal Batch Name='${batch.code}',Line No.='${line.lineNumber}'`);
    if (!line.documentNumber) line.documentNumber = nextDocumentNo(batch);
    c.state.journalLines.push(line);
    c.touch();
    return s.customerPaymentJson(c.state, line);
  },
  ...lineEditing('Payment', (body) => parseBody(customerPaymentBody, body, 'customerPayment'), applyCustomerPaymentFields, s.customerPaymentJson),
};

// ---------------------------------------------------------------------------------------------------------------
// journalLines (general journal; Account Type G/L Account..Bank Account, which includes Customer)

const ACCOUNT_TYPES = ['G/L Account', 'Customer', 'Vendor', 'Bank Account'] as const;
const accountType = z.preprocess((v) => (typeof v === 'string' ? s.decodeEnum(v) : v), z.enum(ACCOUNT_TYPES));

const journalLineBody = z
  .object({
    ...ETAG_FIELD,
    journalId: guid.optional(),
    lineNumber: z.number().int().positive().optional(),
    accountType: accountType.optional(),
    accountId: guid.optional(),
    accountNumber: z.string().max(20).optional(),
    postingDate: date.optional(),
    documentNumber: z.string().max(20).optional(),
    externalDocumentNumber: z.string().max(35).optional(),
    amount: decimalInput.optional(),
    description: z.string().max(100).optional(),
    comment: z.string().max(250).optional(),
    taxCode: z.string().optional(),
    balanceAccountType: accountType.optional(),
    balancingAccountId: guid.optional(),
    balancingAccountNumber: z.string().max(20).optional(),
  })
  .strict();
type JournalLineBody = z.infer<typeof journalLineBody>;

function applyJournalLineFields(c: ReqCtx, line: JournalLineRec, b: JournalLineBody) {
  const accounts = inCompany(c, c.state.glAccounts);
  if (b.accountType !== undefined) line.accountType = b.accountType;
  if (b.accountId !== undefined) {
    const acc = accounts.find((a) => a.id === b.accountId!.toLowerCase());
    if (!acc && b.accountId !== s.NULL_GUID) throw badRequest('The "accountId" does not match to an Account.');
    line.accountNumber = acc?.number ?? '';
  }
  if (b.accountNumber !== undefined) {
    if (line.accountType === 'G/L Account' && b.accountNumber && !accounts.some((a) => a.number === b.accountNumber))
      throw badRequest('The "accountNumber" does not match to an Account.');
    line.accountNumber = b.accountNumber;
  }
  if (b.balanceAccountType !== undefined) {
    if (b.balanceAccountType !== 'G/L Account' && b.balanceAccountType !== 'Bank Account') throw badRequest('The balanceAccountType must be G/L Account or Bank Account.');
    line.balAccountType = b.balanceAccountType;
  }
  if (b.balancingAccountId !== undefined) {
    const acc = accounts.find((a) => a.id === b.balancingAccountId!.toLowerCase());
    if (!acc && b.balancingAccountId !== s.NULL_GUID) throw badRequest('The "balancingAccountId" does not match to an Account.');
    line.balAccountNumber = acc?.number ?? '';
  }
  if (b.balancingAccountNumber !== undefined) {
    if (b.balancingAccountNumber && line.balAccountType === 'G/L Account' && !accounts.some((a) => a.number === b.balancingAccountNumber))
      throw badRequest('The "balancingAccountNumber" does not match to an Account.');
    line.balAccountNumber = b.balancingAccountNumber;
  }
  const customer = line.accountType === 'Customer' ? inCompany(c, c.state.customers).find((x) => x.number === line.accountNumber) : undefined;
  if (b.postingDate !== undefined) line.postingDate = b.postingDate;
  if (b.documentNumber !== undefined) line.documentNumber = b.documentNumber;
  if (b.externalDocumentNumber !== undefined) line.externalDocumentNumber = b.externalDocumentNumber;
  if (b.amount !== undefined) line.amountMinor = lcyAmount(c, b.amount, customer?.currencyCode ?? '');
  if (b.description !== undefined) line.description = b.description;
  if (b.comment !== undefined) line.comment = b.comment;
  if (b.lineNumber !== undefined) line.lineNumber = b.lineNumber;
}

const journalLines: SetDef = {
  entityType: 'journalLine',
  rows(c, parent, filter) {
    const journalId = parent?.id ?? equalityValue(filter, 'journalId');
    if (!journalId && !equalityValue(filter, 'id')) throw badRequest('You must specify a journal batch ID or a journal ID to get a journal line.');
    return inCompany(c, c.state.journalLines)
      .filter((l) => l.documentType === '' && (!journalId || l.batchId === journalId.toLowerCase()))
      .sort((a, b) => a.lineNumber - b.lineNumber)
      .map((l) => s.journalLineJson(c.state, l));
  },
  create(c, body, parent) {
    const b = parseBody(journalLineBody, body, 'journalLine');
    const batch = batchFor(c, undefined, parent?.id ?? b.journalId, 'You must specify a journal batch ID or a journal ID to create a journal line.');
    const line = newJournalLine(c, batch, '', 'G/L Account');
    applyJournalLineFields(c, line, b);
    if (!line.documentNumber) line.documentNumber = nextDocumentNo(batch);
    c.state.journalLines.push(line);
    c.touch();
    return s.journalLineJson(c.state, line);
  },
  ...lineEditing('', (body) => parseBody(journalLineBody, body, 'journalLine'), applyJournalLineFields, s.journalLineJson),
};

// ---------------------------------------------------------------------------------------------------------------
// customers (read + a small PATCH like the real page allows)

const customerPatchBody = z
  .object({
    ...ETAG_FIELD,
    displayName: z.string().min(1).max(100).optional(),
    email: z.string().max(80).optional(),
    phoneNumber: z.string().max(30).optional(),
    website: z.string().max(80).optional(),
    addressLine1: z.string().max(100).optional(),
    addressLine2: z.string().max(50).optional(),
    city: z.string().max(30).optional(),
    state: z.string().max(30).optional(),
    country: z.string().max(10).optional(),
    postalCode: z.string().max(20).optional(),
  })
  .strict();

function customerRow(c: ReqCtx, id: string): Row | null {
  const cust = inCompany(c, c.state.customers).find((x) => x.id === id.toLowerCase());
  return cust ? s.customerJson(c.state, cust) : null;
}

const customers: SetDef = {
  entityType: 'customer',
  navs: { documentAttachments: 'documentAttachments' },
  rows: (c, _parent, filter) =>
    narrow(narrow(inCompany(c, c.state.customers), filter, 'number', (x) => x.number), filter, 'id', (x) => x.id, true).map((x) => s.customerJson(c.state, x)),
  patch(c, id, body) {
    const b = parseBody(customerPatchBody, body, 'customer');
    const cust = inCompany(c, c.state.customers).find((x) => x.id === id);
    if (!cust) throw notFound(`customer ${id}`);
    if (b.email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(b.email)) throw new BcError(400, 'Application_FieldValidationException', `The email address "${b.email}" is not valid.`);
    const { ['@odata.etag']: _etag, ...fields } = b;
    Object.assign(cust, Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)));
    cust.lastModifiedDateTime = nowIso();
    c.emit({ companyId: c.company.id, entitySet: 'customers', id: cust.id, changeType: 'updated', at: cust.lastModifiedDateTime });
    c.touch();
    return s.customerJson(c.state, cust);
  },
};

const documentAttachments: SetDef = {
  entityType: 'documentAttachment',
  rows(c, parent, filter) {
    const parentId = parent?.id ?? equalityValue(filter, 'parentId');
    return inCompany(c, c.state.attachments)
      .filter((a) => !parentId || a.parentId === parentId.toLowerCase())
      .map(s.attachmentJson);
  },
  media: {
    attachmentContent(c, id) {
      const a = inCompany(c, c.state.attachments).find((x) => x.id === id);
      if (!a) throw notFound(`document attachment ${id}`);
      return { contentType: 'application/octet-stream', data: Buffer.from(a.contentBase64, 'base64') };
    },
  },
};

// ---------------------------------------------------------------------------------------------------------------
// The rest of the read-only sets, journals with the post action

const journals: SetDef = {
  entityType: 'journal',
  navs: { journalLines: 'journalLines' },
  // Lists the default general template's batches; a templateDisplayName filter or an id reaches any template,
  // which is how journals({customerPaymentJournalId})/Microsoft.NAV.post posts a cash receipt batch.
  rows(c, _parent, filter) {
    const any = equalityValue(filter, 'templateDisplayName') !== undefined || equalityValue(filter, 'id') !== undefined;
    return inCompany(c, c.state.journalBatches)
      .filter((b) => any || b.template === 'GENERAL')
      .map((b) => s.journalJson(c.state, b));
  },
  actions: {
    post(c, id) {
      const batch = inCompany(c, c.state.journalBatches).find((b) => b.id === id);
      if (!batch) throw new BcError(400, 'Application_DialogException', `The General Journal Batch with ID ${id} cannot be found.`);
      postBatch(c, batch);
      c.touch();
    },
  },
};

export const companySets: Record<string, SetDef> = {
  companyInformation: { entityType: 'companyInformation', rows: (c) => [s.companyInformationJson(c.company)] },
  customers,
  documentAttachments,
  paymentMethods: { entityType: 'paymentMethod', rows: (c) => inCompany(c, c.state.paymentMethods).map(s.paymentMethodJson) },
  accounts: { entityType: 'account', rows: (c) => inCompany(c, c.state.glAccounts).map(s.glAccountJson) },
  salesInvoices: {
    entityType: 'salesInvoice',
    navs: { salesInvoiceLines: 'salesInvoiceLines' },
    // The sell-to customer (`customerId`), as BC's page binds it.
    refs: { customer: (c, row) => customerRow(c, String(row.customerId)) },
    unfilterable: ['remainingAmount', 'currencyCode'],
    rows: (c, _parent, filter) =>
      narrow(narrow(inCompany(c, c.state.salesInvoices), filter, 'number', (i) => i.number), filter, 'id', (i) => i.id, true).map((i) => s.salesInvoiceJson(c.state, i)),
  },
  salesInvoiceLines: {
    entityType: 'salesInvoiceLine',
    rows(c, parent, filter) {
      const documentId = parent?.id ?? equalityValue(filter, 'documentId');
      const id = equalityValue(filter, 'id');
      if (!documentId && !id) throw badRequest('You must specify an Id or a Document Id to get the lines.');
      return inCompany(c, c.state.salesInvoices)
        .filter((i) => !documentId || i.id === documentId.toLowerCase())
        .flatMap((i) => s.salesInvoiceLinesJson(c.state, i));
    },
  },
  customerPaymentJournals: {
    entityType: 'customerPaymentJournal',
    navs: { customerPayments: 'customerPayments' },
    rows: (c) => inCompany(c, c.state.journalBatches).filter((b) => b.template === 'CASHRCPT').map((b) => s.customerPaymentJournalJson(c.state, b)),
  },
  customerPayments,
  journals,
  journalLines,
  generalLedgerEntries: {
    entityType: 'generalLedgerEntry',
    rows: (c, _parent, filter) => narrow(inCompany(c, c.state.glEntries), filter, 'documentNumber', (e) => e.documentNumber).map((e) => s.glEntryJson(c.state, e)),
  },
};

/**
 * The records whose `field` is one of the values the filter pins it to (`field eq '…'`, or several joined by `or`). It
 * only narrows what gets serialised: the full filter still runs on the rows returned, so answers are unchanged, but a
 * lookup by number no longer serialises (and ETag-hashes) the whole table, which made every lookup cost O(table) and
 * bulk runs quadratic. Escaped enum spellings (`_x0020_`) keep every record, as the full filter decodes them.
 */
function narrow<T>(records: T[], filter: FilterNode | undefined, field: string, key: (r: T) => string, caseless = false): T[] {
  const values = equalityValues(filter, field);
  if (values === undefined || values.some((v) => v.includes('_x00'))) return records;
  const want = new Set(caseless ? values.map((v) => v.toLowerCase()) : values);
  return records.filter((r) => want.has(caseless ? key(r).toLowerCase() : key(r)));
}

/** api/microsoft/reportsFinance/beta: query APIs (read-only, no keys). */
export const reportsFinanceSets: Record<string, SetDef> = {
  customerLedgerEntries: {
    entityType: 'customerLedgerEntry',
    rows: (c, _parent, filter) =>
      narrow(narrow(inCompany(c, c.state.ledgerEntries), filter, 'externalDocumentNumber', (e) => e.externalDocumentNumber), filter, 'documentNumber', (e) => e.documentNumber)
        .sort((a, b) => a.entryNumber - b.entryNumber)
        .map((e) => s.ledgerEntryJson(c.state, e)),
  },
};

/** api/arsync/finance/v1.0: the custom API page exposing Customer Posting Group (absent from API v2.0). */
export const customFinanceSets: Record<string, SetDef> = {
  customerPostingGroups: {
    entityType: 'customerPostingGroup',
    rows: (c) => inCompany(c, c.state.customers).map(s.customerPostingGroupJson),
  },
};

export function companyFor(c: Ctx, id: string): CompanyRec {
  return companyOf(c.state, id.toLowerCase());
}

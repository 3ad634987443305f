import { z } from 'zod';
import { parseExactDecimal } from '../../domain/decimal';
import { parseDecimal } from '../../domain/money';
import type {
  BcAttachment,
  BcCustomer,
  BcCustomerPaymentLine,
  BcGlEntry,
  BcJournal,
  BcJournalLine,
  BcLedgerEntry,
  BcPaymentMethod,
  BcSalesInvoice,
  BcSalesInvoiceLine,
  BcSubscription,
  InvoiceStatus,
  JournalAccountType,
  LedgerDocumentType,
} from './types';

// zod schemas for the API v2.0 payloads we read (field names per contracts/business-central.md §2) and their
// mapping to domain types. Decimal amounts become minor units here and nowhere else.

const NULL_GUID = '00000000-0000-0000-0000-000000000000';
const text = z
  .string()
  .nullish()
  .transform((v) => v ?? '');
const guid = z.string().regex(/^[0-9a-fA-F-]{36}$/, 'expected a GUID');
const etag = z.string().optional();
const decimal = z.number();
/** Business Central keeps unit prices to 5 decimals: read exactly, once, at the boundary (more is refused, not rounded). */
const unitPrice = z.number().transform((v, ctx) => {
  try {
    return parseExactDecimal(v, 5, 'unitPrice');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});
/** Decodes BC's enum encoding ("Credit_x0020_Memo" -> "Credit Memo", "_x0020_" -> ""). */
export function decodeEnum(value: string): string {
  return value === '_x0020_' ? '' : value.replace(/_x0020_/g, ' ').replace(/_x002F_/g, '/');
}

const optionalId = (id: string) => (id === NULL_GUID ? null : id);

export const page = <T extends z.ZodType>(item: T) =>
  z.object({ value: z.array(item), '@odata.nextLink': z.string().optional() });

export const companyInformationSchema = z.object({ id: guid, displayName: text, currencyCode: z.string().min(1) });

export const attachmentSchema = z.object({
  id: guid,
  parentId: guid,
  fileName: text,
  byteSize: z.number().int().nonnegative(),
  lastModifiedDateTime: z.string(),
});

export const customerSchema = z.object({
  '@odata.etag': etag,
  id: guid,
  number: z.string().min(1),
  displayName: text,
  type: z.enum(['Company', 'Person']),
  addressLine1: text,
  addressLine2: text,
  city: text,
  state: text,
  country: text,
  postalCode: text,
  phoneNumber: text,
  email: text,
  website: text,
  balanceDue: decimal,
  currencyCode: z.string().min(1),
  paymentMethodId: guid.nullish(),
  blocked: text,
  lastModifiedDateTime: z.string(),
  documentAttachments: z.array(attachmentSchema).optional(),
});

export const postingGroupSchema = z.object({ id: guid, customerNumber: z.string(), customerPostingGroup: text });

export const paymentMethodSchema = z.object({ id: guid, code: z.string().min(1), displayName: text });

export const salesInvoiceLineSchema = z.object({
  id: guid,
  sequence: z.number().int(),
  lineType: text,
  lineObjectNumber: text,
  description: text,
  unitOfMeasureCode: text,
  quantity: decimal,
  // Not money: Business Central keeps unit prices to 5 decimals (its unit-amount precision), whatever the currency.
  unitPrice,
  discountAmount: decimal,
  discountPercent: decimal,
  amountExcludingTax: decimal,
  taxCode: text,
  taxPercent: decimal,
  totalTaxAmount: decimal,
  amountIncludingTax: decimal,
  // After the invoice discount, with the document's tax distributed over its lines (they add up to the header).
  netAmount: decimal,
  netTaxAmount: decimal,
  netAmountIncludingTax: decimal,
});

const INVOICE_STATUSES = ['Draft', 'In Review', 'Open', 'Paid', 'Canceled', 'Corrective', ''] as const;

export const salesInvoiceSchema = z.object({
  id: guid,
  number: z.string().min(1),
  externalDocumentNumber: text,
  customerPurchaseOrderReference: text,
  invoiceDate: text,
  postingDate: text,
  dueDate: text,
  customerId: guid,
  customerNumber: text,
  customerName: text,
  billToCustomerId: guid,
  billToCustomerNumber: text,
  currencyCode: z.string().min(1),
  pricesIncludeTax: z.boolean(),
  status: z
    .string()
    .transform(decodeEnum)
    .pipe(z.enum(INVOICE_STATUSES)),
  totalAmountExcludingTax: decimal,
  totalTaxAmount: decimal,
  totalAmountIncludingTax: decimal,
  discountAmount: decimal,
  remainingAmount: decimal,
  email: text,
  phoneNumber: text,
  lastModifiedDateTime: z.string(),
  salesInvoiceLines: z.array(salesInvoiceLineSchema).optional(),
  /** `$expand=customer`: the sell-to customer, null when it no longer exists. */
  customer: customerSchema.nullable().optional(),
});

export const journalSchema = z.object({
  id: guid,
  code: z.string().min(1),
  displayName: text,
  templateDisplayName: z.string().optional(),
  balancingAccountNumber: text,
});

export const customerPaymentSchema = z.object({
  '@odata.etag': etag,
  id: guid,
  journalId: guid,
  lineNumber: z.number().int(),
  customerId: guid.nullish(),
  customerNumber: text,
  postingDate: text,
  documentNumber: text,
  externalDocumentNumber: text,
  amount: decimal,
  appliesToInvoiceId: guid.nullish(),
  appliesToInvoiceNumber: text,
  description: text,
  comment: text,
});

const ACCOUNT_TYPES = ['G/L Account', 'Customer', 'Vendor', 'Bank Account'] as const;

export const journalLineSchema = z.object({
  '@odata.etag': etag,
  id: guid,
  journalId: guid,
  lineNumber: z.number().int(),
  accountType: z.string().transform(decodeEnum).pipe(z.enum(ACCOUNT_TYPES)),
  accountNumber: text,
  postingDate: text,
  documentNumber: text,
  externalDocumentNumber: text,
  amount: decimal,
  description: text,
  comment: text,
  balanceAccountType: text.transform(decodeEnum),
  balancingAccountNumber: text,
});

const DOCUMENT_TYPES = ['Invoice', 'Payment', 'Credit Memo', 'Refund', 'Finance Charge Memo', 'Reminder', ''] as const;

export const ledgerEntrySchema = z.object({
  entryNumber: z.number().int(),
  documentType: text.transform(decodeEnum).pipe(z.enum(DOCUMENT_TYPES)),
  description: text,
  postingDate: text,
  documentNumber: text,
  externalDocumentNumber: text,
  balancingAccountNumber: text,
  balancingAccountType: text.transform(decodeEnum),
  customerNumber: text,
  open: z.boolean(),
  amount: decimal,
  /** Raw Cust. Ledger Entry currency: blank means the local currency. */
  currencyCode: text,
  lastModifiedDateTime: z.string(),
});

export const glEntrySchema = z.object({
  id: guid,
  entryNumber: z.number().int(),
  postingDate: text,
  documentNumber: text,
  documentType: text.transform(decodeEnum),
  accountNumber: text,
  description: text,
  debitAmount: decimal,
  creditAmount: decimal,
});

export const subscriptionSchema = z.object({
  '@odata.etag': etag,
  subscriptionId: z.string().min(1),
  notificationUrl: z.string(),
  resource: z.string(),
  clientState: text,
  expirationDateTime: z.string(),
  lastModifiedDateTime: text,
});

/** A webhook notification body as Business Central POSTs it to the notificationUrl. */
export const notificationPayloadSchema = z.object({
  value: z.array(
    z.object({
      subscriptionId: z.string().min(1),
      clientState: text,
      expirationDateTime: z.string(),
      resource: z.string().min(1),
      changeType: z.enum(['created', 'updated', 'deleted', 'collection']),
      lastModifiedDateTime: z.string(),
    }),
  ),
});

// ---- mapping to domain types

const m = (value: number, currency: string) => ({ minor: parseDecimal(value, currency), currency });

export function toCustomer(raw: z.infer<typeof customerSchema>): BcCustomer {
  return {
    id: raw.id,
    number: raw.number,
    displayName: raw.displayName,
    type: raw.type,
    email: raw.email,
    phoneNumber: raw.phoneNumber,
    website: raw.website,
    address: { line1: raw.addressLine1, line2: raw.addressLine2, city: raw.city, state: raw.state, country: raw.country, postalCode: raw.postalCode },
    currencyCode: raw.currencyCode,
    paymentMethodId: raw.paymentMethodId ? optionalId(raw.paymentMethodId) : null,
    blocked: decodeEnum(raw.blocked),
    balanceDue: m(raw.balanceDue, raw.currencyCode),
    lastModifiedDateTime: raw.lastModifiedDateTime,
    etag: raw['@odata.etag'] ?? '*',
    ...(raw.documentAttachments ? { attachments: raw.documentAttachments.map(toAttachment) } : {}),
  };
}

export const toAttachment = (a: z.infer<typeof attachmentSchema>): BcAttachment => ({ ...a });

export const toPaymentMethod = (p: z.infer<typeof paymentMethodSchema>): BcPaymentMethod => ({ ...p });

export function toSalesInvoice(raw: z.infer<typeof salesInvoiceSchema>): BcSalesInvoice {
  const cur = raw.currencyCode;
  const line = (l: z.infer<typeof salesInvoiceLineSchema>): BcSalesInvoiceLine => ({
    id: l.id,
    sequence: l.sequence,
    lineType: decodeEnum(l.lineType),
    lineObjectNumber: l.lineObjectNumber,
    description: l.description,
    unitOfMeasureCode: l.unitOfMeasureCode,
    quantity: l.quantity,
    unitPrice: l.unitPrice,
    discountPercent: l.discountPercent,
    discount: m(l.discountAmount, cur),
    amountExcludingTax: m(l.amountExcludingTax, cur),
    taxCode: l.taxCode,
    taxPercent: l.taxPercent,
    tax: m(l.totalTaxAmount, cur),
    amountIncludingTax: m(l.amountIncludingTax, cur),
    netAmount: m(l.netAmount, cur),
    netTax: m(l.netTaxAmount, cur),
    netAmountIncludingTax: m(l.netAmountIncludingTax, cur),
  });
  return {
    id: raw.id,
    number: raw.number,
    externalDocumentNumber: raw.externalDocumentNumber,
    customerPurchaseOrderReference: raw.customerPurchaseOrderReference,
    invoiceDate: raw.invoiceDate,
    postingDate: raw.postingDate,
    dueDate: raw.dueDate,
    customerId: raw.customerId,
    customerNumber: raw.customerNumber,
    customerName: raw.customerName,
    billToCustomerId: raw.billToCustomerId,
    billToCustomerNumber: raw.billToCustomerNumber,
    currencyCode: cur,
    pricesIncludeTax: raw.pricesIncludeTax,
    status: raw.status as InvoiceStatus,
    totalExcludingTax: m(raw.totalAmountExcludingTax, cur),
    totalTax: m(raw.totalTaxAmount, cur),
    totalIncludingTax: m(raw.totalAmountIncludingTax, cur),
    discount: m(raw.discountAmount, cur),
    remaining: m(raw.remainingAmount, cur),
    email: raw.email,
    phoneNumber: raw.phoneNumber,
    lastModifiedDateTime: raw.lastModifiedDateTime,
    ...(raw.salesInvoiceLines ? { lines: [...raw.salesInvoiceLines].sort((a, b) => a.sequence - b.sequence).map(line) } : {}),
    ...(raw.customer ? { customer: toCustomer(raw.customer) } : {}),
  };
}

/** A batch read with `$expand` of its lines (one request instead of two). */
export const journalWithPaymentsSchema = journalSchema.extend({ customerPayments: z.array(customerPaymentSchema) });
export const journalWithLinesSchema = journalSchema.extend({ journalLines: z.array(journalLineSchema) });

export const toJournal = (j: z.infer<typeof journalSchema>): BcJournal => ({ ...j });

export function toCustomerPayment(raw: z.infer<typeof customerPaymentSchema>, currency: string): BcCustomerPaymentLine {
  return {
    id: raw.id,
    journalId: raw.journalId,
    lineNumber: raw.lineNumber,
    customerId: raw.customerId ?? NULL_GUID,
    customerNumber: raw.customerNumber,
    postingDate: raw.postingDate,
    documentNumber: raw.documentNumber,
    externalDocumentNumber: raw.externalDocumentNumber,
    amount: m(raw.amount, currency),
    appliesToInvoiceId: raw.appliesToInvoiceId ? optionalId(raw.appliesToInvoiceId) : null,
    appliesToInvoiceNumber: raw.appliesToInvoiceNumber,
    description: raw.description,
    comment: raw.comment,
    etag: raw['@odata.etag'] ?? '*',
  };
}

export function toJournalLine(raw: z.infer<typeof journalLineSchema>, currency: string): BcJournalLine {
  return {
    id: raw.id,
    journalId: raw.journalId,
    lineNumber: raw.lineNumber,
    accountType: raw.accountType as JournalAccountType,
    accountNumber: raw.accountNumber,
    postingDate: raw.postingDate,
    documentNumber: raw.documentNumber,
    externalDocumentNumber: raw.externalDocumentNumber,
    amount: m(raw.amount, currency),
    description: raw.description,
    comment: raw.comment,
    balanceAccountType: raw.balanceAccountType,
    balancingAccountNumber: raw.balancingAccountNumber,
    etag: raw['@odata.etag'] ?? '*',
  };
}

export function toLedgerEntry(raw: z.infer<typeof ledgerEntrySchema>, localCurrency: string): BcLedgerEntry {
  const cur = raw.currencyCode || localCurrency;
  return {
    entryNumber: raw.entryNumber,
    documentType: raw.documentType as LedgerDocumentType,
    documentNumber: raw.documentNumber,
    externalDocumentNumber: raw.externalDocumentNumber,
    customerNumber: raw.customerNumber,
    postingDate: raw.postingDate,
    description: raw.description,
    amount: m(raw.amount, cur),
    open: raw.open,
    balancingAccountType: raw.balancingAccountType,
    balancingAccountNumber: raw.balancingAccountNumber,
    lastModifiedDateTime: raw.lastModifiedDateTime,
  };
}

export function toGlEntry(raw: z.infer<typeof glEntrySchema>, localCurrency: string): BcGlEntry {
  return {
    id: raw.id,
    entryNumber: raw.entryNumber,
    postingDate: raw.postingDate,
    documentNumber: raw.documentNumber,
    documentType: raw.documentType,
    accountNumber: raw.accountNumber,
    description: raw.description,
    debit: m(raw.debitAmount, localCurrency),
    credit: m(raw.creditAmount, localCurrency),
  };
}

export function toSubscription(raw: z.infer<typeof subscriptionSchema>): BcSubscription {
  return {
    subscriptionId: raw.subscriptionId,
    notificationUrl: raw.notificationUrl,
    resource: raw.resource,
    clientState: raw.clientState,
    expirationDateTime: raw.expirationDateTime,
    lastModifiedDateTime: raw.lastModifiedDateTime,
    etag: raw['@odata.etag'] ?? '*',
  };
}

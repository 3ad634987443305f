import { createHash } from 'node:crypto';
import { toDecimalNumber } from '../../domain/money';
import { formatScaled, parseScaled } from './fixedPoint';
import { companyOf, invoiceRemaining, invoiceStatus, remainingOf } from './ledger';
import type {
  AttachmentRec,
  BcState,
  CompanyRec,
  CustomerRec,
  GlAccountRec,
  GlEntryRec,
  JournalBatchRec,
  JournalLineRec,
  LedgerEntryRec,
  PaymentMethodRec,
  SalesInvoiceRec,
  SubscriptionRec,
} from './model';
import type { Row } from './odata';
import { ownLineTaxMinor } from './tax';

// Records -> API v2.0 JSON, field names exactly as Business Central exposes them (contracts/business-central.md §2).
// Amounts become JSON decimal numbers; enum values encode spaces and slashes like BC ("Credit_x0020_Memo").

export const NULL_GUID = '00000000-0000-0000-0000-000000000000';

export function encodeEnum(value: string): string {
  if (value === '') return '_x0020_';
  return value.replace(/ /g, '_x0020_').replace(/\//g, '_x002F_');
}

export function decodeEnum(value: string): string {
  return value === '_x0020_' ? '' : value.replace(/_x0020_/g, ' ').replace(/_x002F_/g, '/');
}

/** Weak ETag derived from the entity's content, like BC's row-version based `W/"JzQ0O…"` values. */
export function withEtag(row: Row): Row {
  const hash = createHash('sha1').update(JSON.stringify(row)).digest('hex').slice(0, 16);
  return { '@odata.etag': `W/"${Buffer.from(`'${hash}'`).toString('base64')}"`, ...row };
}

const amount = (minor: number, currency: string) => toDecimalNumber(minor, currency);
const currencyOf = (state: BcState, companyId: string, code: string) => code || companyOf(state, companyId).lcyCode;
const decimal = (text: string) => Number(formatScaled(parseScaled(text, 5), 5));

export function companyJson(c: CompanyRec): Row {
  return withEtag({
    id: c.id,
    systemVersion: '26.0.0.0',
    timestamp: 0,
    name: c.name,
    displayName: c.displayName,
    businessProfileId: c.businessProfileId,
    systemCreatedAt: c.createdAt,
    systemCreatedBy: NULL_GUID,
    systemModifiedAt: c.lastModifiedDateTime,
    systemModifiedBy: NULL_GUID,
  });
}

export function companyInformationJson(c: CompanyRec): Row {
  return withEtag({
    id: c.id,
    displayName: c.displayName,
    addressLine1: '7122 South Ashford Street',
    addressLine2: '',
    city: 'Atlanta',
    state: 'GA',
    country: 'US',
    postalCode: '31772',
    phoneNumber: '+1 425 555 0100',
    faxNumber: '',
    email: 'ar@cronus.example',
    website: '',
    taxRegistrationNumber: '',
    currencyCode: c.lcyCode,
    currentFiscalYearStartDate: `${new Date().getUTCFullYear()}-01-01`,
    industry: '',
    lastModifiedDateTime: c.lastModifiedDateTime,
  });
}

export function customerBalance(state: BcState, customer: CustomerRec): number {
  return state.ledgerEntries
    .filter((e) => e.companyId === customer.companyId && e.customerNumber === customer.number)
    .reduce((sum, e) => sum + remainingOf(state, e), 0);
}

export function customerJson(state: BcState, c: CustomerRec): Row {
  const method = state.paymentMethods.find((m) => m.companyId === c.companyId && m.code === c.paymentMethodCode);
  const currency = currencyOf(state, c.companyId, c.currencyCode);
  return withEtag({
    id: c.id,
    number: c.number,
    displayName: c.displayName,
    type: c.type,
    addressLine1: c.addressLine1,
    addressLine2: c.addressLine2,
    city: c.city,
    state: c.state,
    country: c.country,
    postalCode: c.postalCode,
    phoneNumber: c.phoneNumber,
    email: c.email,
    website: c.website,
    salespersonCode: '',
    balanceDue: amount(customerBalance(state, c), currency),
    creditLimit: 0,
    taxLiable: c.taxLiable,
    taxAreaId: NULL_GUID,
    taxAreaDisplayName: '',
    taxRegistrationNumber: '',
    currencyId: NULL_GUID,
    currencyCode: currency,
    paymentTermsId: NULL_GUID,
    shipmentMethodId: NULL_GUID,
    paymentMethodId: method?.id ?? NULL_GUID,
    blocked: encodeEnum(c.blocked),
    lastModifiedDateTime: c.lastModifiedDateTime,
  });
}

/** Custom API page (publisher arsync, group finance, v1.0) exposing Customer Posting Group, absent from API v2.0. */
export function customerPostingGroupJson(c: CustomerRec): Row {
  return withEtag({
    id: c.id,
    customerNumber: c.number,
    displayName: c.displayName,
    customerPostingGroup: c.postingGroup,
    lastModifiedDateTime: c.lastModifiedDateTime,
  });
}

export function attachmentJson(a: AttachmentRec): Row {
  return withEtag({
    id: a.id,
    fileName: a.fileName,
    byteSize: Buffer.from(a.contentBase64, 'base64').length,
    'attachmentContent@odata.mediaEditLink': `documentAttachments(${a.id})/attachmentContent`,
    'attachmentContent@odata.mediaReadLink': `documentAttachments(${a.id})/attachmentContent`,
    parentType: a.parentType,
    parentId: a.parentId,
    lineNumber: 0,
    documentFlowSales: false,
    documentFlowPurchase: false,
    lastModifiedDateTime: a.lastModifiedDateTime,
  });
}

export function paymentMethodJson(m: PaymentMethodRec): Row {
  return withEtag({ id: m.id, code: m.code, displayName: m.displayName, lastModifiedDateTime: m.lastModifiedDateTime });
}

export function glAccountJson(a: GlAccountRec): Row {
  return withEtag({
    id: a.id,
    number: a.number,
    displayName: a.displayName,
    category: a.category,
    subCategory: '',
    blocked: false,
    accountType: 'Posting',
    directPosting: true,
    netChange: 0,
    consolidationTranslationMethod: '',
    consolidationDebitAccount: '',
    consolidationCreditAccount: '',
    excludeFromConsolidation: false,
    lastModifiedDateTime: a.lastModifiedDateTime,
  });
}

export function salesInvoiceJson(state: BcState, inv: SalesInvoiceRec): Row {
  const customer = state.customers.find((c) => c.companyId === inv.companyId && c.number === inv.customerNumber);
  const currency = currencyOf(state, inv.companyId, inv.currencyCode);
  const address = {
    AddressLine1: customer?.addressLine1 ?? '',
    AddressLine2: customer?.addressLine2 ?? '',
    City: customer?.city ?? '',
    Country: customer?.country ?? '',
    State: customer?.state ?? '',
    PostCode: customer?.postalCode ?? '',
  };
  const prefixed = (prefix: string) => Object.fromEntries(Object.entries(address).map(([k, v]) => [`${prefix}${k}`, v]));
  return withEtag({
    id: inv.id,
    number: inv.number,
    externalDocumentNumber: inv.externalDocumentNumber,
    invoiceDate: inv.invoiceDate,
    postingDate: inv.postingDate,
    dueDate: inv.dueDate,
    promisedPayDate: '0001-01-01',
    customerPurchaseOrderReference: inv.customerPurchaseOrderReference,
    customerId: customer?.id ?? NULL_GUID,
    customerNumber: inv.customerNumber,
    customerName: customer?.displayName ?? '',
    billToName: customer?.displayName ?? '',
    billToCustomerId: customer?.id ?? NULL_GUID,
    billToCustomerNumber: inv.billToCustomerNumber,
    shipToName: customer?.displayName ?? '',
    shipToContact: '',
    ...prefixed('sellTo'),
    ...prefixed('billTo'),
    ...prefixed('shipTo'),
    currencyId: NULL_GUID,
    currencyCode: currency,
    orderId: NULL_GUID,
    orderNumber: '',
    paymentTermsId: NULL_GUID,
    shipmentMethodId: NULL_GUID,
    salesperson: '',
    disputeStatusId: NULL_GUID,
    disputeStatus: '',
    pricesIncludeTax: inv.pricesIncludeTax,
    remainingAmount: amount(invoiceRemaining(state, inv), currency),
    discountAmount: 0,
    discountAppliedBeforeTax: true,
    totalAmountExcludingTax: amount(inv.totalExclMinor, currency),
    totalTaxAmount: amount(inv.totalTaxMinor, currency),
    totalAmountIncludingTax: amount(inv.totalInclMinor, currency),
    status: invoiceStatus(state, inv),
    lastModifiedDateTime: inv.lastModifiedDateTime,
    phoneNumber: customer?.phoneNumber ?? '',
    email: customer?.email ?? '',
  });
}

export function salesInvoiceLinesJson(state: BcState, inv: SalesInvoiceRec): Row[] {
  const currency = currencyOf(state, inv.companyId, inv.currencyCode);
  return inv.lines.map((l) =>
    withEtag({
      id: l.id,
      documentId: inv.id,
      sequence: l.sequence,
      itemId: NULL_GUID,
      accountId: NULL_GUID,
      lineType: l.lineType,
      lineObjectNumber: l.lineObjectNumber,
      description: l.description,
      description2: '',
      unitOfMeasureId: NULL_GUID,
      unitOfMeasureCode: l.unitOfMeasureCode,
      quantity: decimal(l.quantity),
      unitPrice: decimal(l.unitPrice),
      discountAmount: amount(l.discountMinor, currency),
      discountPercent: decimal(l.discountPercent),
      discountAppliedBeforeTax: false,
      amountExcludingTax: amount(l.amountExclMinor, currency),
      taxCode: l.taxCode,
      taxPercent: decimal(l.taxPercent),
      totalTaxAmount: amount(ownLineTaxMinor(l.amountExclMinor, l.taxPercent), currency),
      amountIncludingTax: amount(l.amountExclMinor + ownLineTaxMinor(l.amountExclMinor, l.taxPercent), currency),
      invoiceDiscountAllocation: 0,
      netAmount: amount(l.amountExclMinor, currency),
      netTaxAmount: amount(l.taxMinor, currency),
      netAmountIncludingTax: amount(l.amountInclMinor, currency),
      shipmentDate: inv.postingDate,
      itemVariantId: NULL_GUID,
      locationId: NULL_GUID,
    }),
  );
}

function glAccountId(state: BcState, companyId: string, number: string): string {
  return state.glAccounts.find((a) => a.companyId === companyId && a.number === number)?.id ?? NULL_GUID;
}

export function customerPaymentJournalJson(state: BcState, b: JournalBatchRec): Row {
  return withEtag({
    id: b.id,
    code: b.code,
    displayName: b.displayName,
    lastModifiedDateTime: b.lastModifiedDateTime,
    balancingAccountId: b.balAccountType === 'G/L Account' ? glAccountId(state, b.companyId, b.balAccountNumber) : NULL_GUID,
    balancingAccountNumber: b.balAccountNumber,
  });
}

export function journalJson(state: BcState, b: JournalBatchRec): Row {
  return withEtag({
    id: b.id,
    code: b.code,
    displayName: b.displayName,
    templateDisplayName: b.template,
    lastModifiedDateTime: b.lastModifiedDateTime,
    balancingAccountId: b.balAccountType === 'G/L Account' ? glAccountId(state, b.companyId, b.balAccountNumber) : NULL_GUID,
    balancingAccountNumber: b.balAccountNumber,
  });
}

function lineCurrency(state: BcState, l: JournalLineRec): string {
  const customer = l.accountType === 'Customer' ? state.customers.find((c) => c.companyId === l.companyId && c.number === l.accountNumber) : undefined;
  return currencyOf(state, l.companyId, customer?.currencyCode ?? '');
}

export function customerPaymentJson(state: BcState, l: JournalLineRec): Row {
  const batch = state.journalBatches.find((b) => b.id === l.batchId);
  const customer = state.customers.find((c) => c.companyId === l.companyId && c.number === l.accountNumber);
  const invoice = l.appliesToInvoiceNumber
    ? state.salesInvoices.find((i) => i.companyId === l.companyId && i.number === l.appliesToInvoiceNumber)
    : undefined;
  return withEtag({
    id: l.id,
    journalId: l.batchId,
    journalDisplayName: batch?.code ?? '',
    lineNumber: l.lineNumber,
    customerId: customer?.id ?? NULL_GUID,
    customerNumber: l.accountNumber,
    postingDate: l.postingDate,
    documentNumber: l.documentNumber,
    externalDocumentNumber: l.externalDocumentNumber,
    amount: amount(l.amountMinor, lineCurrency(state, l)),
    appliesToInvoiceId: invoice?.id ?? NULL_GUID,
    appliesToInvoiceNumber: l.appliesToInvoiceNumber,
    description: l.description,
    comment: l.comment,
    lastModifiedDateTime: l.lastModifiedDateTime,
  });
}

export function journalLineJson(state: BcState, l: JournalLineRec): Row {
  const batch = state.journalBatches.find((b) => b.id === l.batchId);
  return withEtag({
    id: l.id,
    journalId: l.batchId,
    journalDisplayName: batch?.code ?? '',
    lineNumber: l.lineNumber,
    accountType: encodeEnum(l.accountType),
    accountId: l.accountType === 'G/L Account' ? glAccountId(state, l.companyId, l.accountNumber) : NULL_GUID,
    accountNumber: l.accountNumber,
    postingDate: l.postingDate,
    documentNumber: l.documentNumber,
    externalDocumentNumber: l.externalDocumentNumber,
    amount: amount(l.amountMinor, lineCurrency(state, l)),
    description: l.description,
    comment: l.comment,
    taxCode: '',
    balanceAccountType: encodeEnum(l.balAccountType || 'G/L Account'),
    balancingAccountId: l.balAccountType === 'G/L Account' ? glAccountId(state, l.companyId, l.balAccountNumber) : NULL_GUID,
    balancingAccountNumber: l.balAccountNumber,
    lastModifiedDateTime: l.lastModifiedDateTime,
  });
}

export function glEntryJson(state: BcState, e: GlEntryRec): Row {
  const lcy = companyOf(state, e.companyId).lcyCode;
  return withEtag({
    id: e.id,
    entryNumber: e.entryNumber,
    postingDate: e.postingDate,
    documentNumber: e.documentNumber,
    documentType: encodeEnum(e.documentType),
    accountId: glAccountId(state, e.companyId, e.accountNumber),
    accountNumber: e.accountNumber,
    description: e.description,
    debitAmount: amount(e.debitMinor, lcy),
    creditAmount: amount(e.creditMinor, lcy),
    additionalCurrencyDebitAmount: 0,
    additionalCurrencyCreditAmount: 0,
    lastModifiedDateTime: e.lastModifiedDateTime,
  });
}

/** reportsFinance/beta customerLedgerEntries: a query API, so no id and no ETag; currencyCode is raw (blank = LCY). */
export function ledgerEntryJson(state: BcState, e: LedgerEntryRec): Row {
  const currency = currencyOf(state, e.companyId, e.currencyCode);
  const value = (m: number) => amount(m, currency);
  return {
    entryNumber: e.entryNumber,
    documentType: encodeEnum(e.documentType),
    description: e.description,
    postingDate: e.postingDate,
    documentNumber: e.documentNumber,
    externalDocumentNumber: e.externalDocumentNumber,
    balancingAccountNumber: e.balancingAccountNumber,
    balancingAccountType: encodeEnum(e.balancingAccountType || 'G/L Account'),
    customerNumber: e.customerNumber,
    open: remainingOf(state, e) !== 0,
    amount: value(e.amountMinor),
    debitAmount: value(Math.max(e.amountMinor, 0)),
    creditAmount: value(Math.max(-e.amountMinor, 0)),
    amountLocalCurrency: value(e.amountMinor),
    dimensionSetID: 0,
    debitAmountLocalCurrency: value(Math.max(e.amountMinor, 0)),
    creditAmountLocalCurrency: value(Math.max(-e.amountMinor, 0)),
    currencyCode: e.currencyCode,
    yourReference: e.yourReference,
    lastModifiedDateTime: e.lastModifiedDateTime,
  };
}

export function subscriptionJson(s: SubscriptionRec): Row {
  return withEtag({
    subscriptionId: s.subscriptionId,
    notificationUrl: s.notificationUrl,
    resource: s.resource,
    timestamp: 0,
    userId: s.userId,
    lastModifiedDateTime: s.lastModifiedDateTime,
    clientState: s.clientState,
    expirationDateTime: s.expirationDateTime,
    systemCreatedAt: s.createdAt,
    systemCreatedBy: s.userId,
    systemModifiedAt: s.lastModifiedDateTime,
    systemModifiedBy: s.userId,
  });
}

// The sandbox ERP's persistent state. Amounts are integer minor units of the record's currency; quantities and
// percentages are decimal strings (parsed exactly with fixedPoint.ts when computing). Everything here is plain JSON
// so JsonStore can write it to disk as is.

export interface CompanyRec {
  id: string;
  name: string;
  displayName: string;
  businessProfileId: string;
  /** Local currency (G/L Setup "LCY Code"); a blank currency on a record means this one. */
  lcyCode: string;
  createdAt: string;
  lastModifiedDateTime: string;
}

export interface GlAccountRec {
  id: string;
  companyId: string;
  number: string;
  displayName: string;
  category: 'Assets' | 'Liabilities' | 'Equity' | 'Income' | 'Expense';
  lastModifiedDateTime: string;
}

export interface PaymentMethodRec {
  id: string;
  companyId: string;
  code: string;
  displayName: string;
  /** Bal. Account No. (G/L) of the payment method; not exposed by API v2.0 paymentMethods. */
  balAccountNumber: string;
  lastModifiedDateTime: string;
}

export interface CustomerRec {
  id: string;
  companyId: string;
  number: string;
  displayName: string;
  type: 'Company' | 'Person';
  addressLine1: string;
  addressLine2: string;
  city: string;
  state: string;
  country: string;
  postalCode: string;
  phoneNumber: string;
  email: string;
  website: string;
  taxLiable: boolean;
  /** '' = local currency. */
  currencyCode: string;
  paymentMethodCode: string;
  postingGroup: string;
  blocked: '' | 'Ship' | 'Invoice' | 'All';
  createdAt: string;
  lastModifiedDateTime: string;
}

export interface AttachmentRec {
  id: string;
  companyId: string;
  parentType: 'Customer';
  parentId: string;
  fileName: string;
  contentBase64: string;
  createdAt: string;
  lastModifiedDateTime: string;
}

export interface InvoiceLineRec {
  id: string;
  sequence: number;
  lineType: 'Item' | 'Account' | 'Resource' | 'Comment';
  lineObjectNumber: string;
  description: string;
  unitOfMeasureCode: string;
  /** Decimal string, up to 5 places. */
  quantity: string;
  /** Decimal string, up to 5 places (BC's unit-amount precision, finer than the amount's). */
  unitPrice: string;
  /** Decimal string percent, up to 5 places. */
  discountPercent: string;
  /** Decimal string percent, up to 5 places (VAT % / sales tax %). */
  taxPercent: string;
  taxCode: string;
  // Computed at posting (tax.ts) and stored, like the posted Sales Invoice Line.
  lineAmountMinor: number;
  discountMinor: number;
  amountExclMinor: number;
  taxMinor: number;
  amountInclMinor: number;
}

export interface SalesInvoiceRec {
  id: string;
  companyId: string;
  number: string;
  posted: boolean;
  /** A draft released (Released or Pending Prepayment): the API reads it as `Open`, like a posted invoice. */
  released?: boolean;
  canceled: boolean;
  corrective: boolean;
  externalDocumentNumber: string;
  customerPurchaseOrderReference: string;
  customerNumber: string;
  billToCustomerNumber: string;
  invoiceDate: string;
  postingDate: string;
  dueDate: string;
  /** '' = local currency. */
  currencyCode: string;
  pricesIncludeTax: boolean;
  lines: InvoiceLineRec[];
  totalExclMinor: number;
  totalTaxMinor: number;
  totalInclMinor: number;
  discountMinor: number;
  createdAt: string;
  lastModifiedDateTime: string;
}

export type CleDocumentType = 'Invoice' | 'Payment' | 'Credit Memo' | 'Refund' | '';

/** Cust. Ledger Entry. Remaining amount is derived from `applications`, never stored. */
export interface LedgerEntryRec {
  entryNumber: number;
  companyId: string;
  customerNumber: string;
  documentType: CleDocumentType;
  documentNumber: string;
  externalDocumentNumber: string;
  description: string;
  postingDate: string;
  /** Signed: invoices positive, payments and credit memos negative. */
  amountMinor: number;
  currencyCode: string;
  balancingAccountType: '' | 'G/L Account' | 'Bank Account';
  balancingAccountNumber: string;
  yourReference: string;
  createdAt: string;
  lastModifiedDateTime: string;
}

/** Detailed Cust. Ledg. Entry of type Application linking a credit entry (payment/credit memo) to an invoice entry. */
export interface ApplicationRec {
  entryNumber: number;
  companyId: string;
  invoiceEntryNumber: number;
  creditEntryNumber: number;
  /** Positive: how much of the invoice this application closed. */
  amountMinor: number;
  postingDate: string;
  unapplied: boolean;
  createdAt: string;
}

export interface GlEntryRec {
  id: string;
  entryNumber: number;
  companyId: string;
  postingDate: string;
  documentNumber: string;
  documentType: CleDocumentType;
  accountNumber: string;
  description: string;
  debitMinor: number;
  creditMinor: number;
  createdAt: string;
  lastModifiedDateTime: string;
}

export interface JournalBatchRec {
  id: string;
  companyId: string;
  /** CASHRCPT batches are customerPaymentJournals; GENERAL batches are journals. */
  template: 'CASHRCPT' | 'GENERAL';
  code: string;
  displayName: string;
  balAccountType: 'G/L Account' | 'Bank Account';
  balAccountNumber: string;
  /** Prefix + counter used when a line arrives without a document number (the batch's No. Series). */
  noSeriesPrefix: string;
  nextNo: number;
  lastModifiedDateTime: string;
}

export interface JournalLineRec {
  id: string;
  companyId: string;
  batchId: string;
  lineNumber: number;
  /** Payment for customerPayments; blank for general journalLines. */
  documentType: 'Payment' | '';
  accountType: 'G/L Account' | 'Customer' | 'Vendor' | 'Bank Account';
  accountNumber: string;
  postingDate: string;
  documentNumber: string;
  externalDocumentNumber: string;
  /** Signed as entered; minor units of the customer's (or local) currency. */
  amountMinor: number;
  appliesToInvoiceNumber: string;
  description: string;
  comment: string;
  balAccountType: '' | 'G/L Account' | 'Bank Account';
  balAccountNumber: string;
  createdAt: string;
  lastModifiedDateTime: string;
}

export interface SubscriptionRec {
  subscriptionId: string;
  notificationUrl: string;
  resource: string;
  clientState: string;
  userId: string;
  expirationDateTime: string;
  createdAt: string;
  lastModifiedDateTime: string;
}

export interface BcState {
  version: 1;
  counters: { entryNo: number; glEntryNo: number; invoiceNo: number; paymentNo: number; creditMemoNo: number };
  companies: CompanyRec[];
  glAccounts: GlAccountRec[];
  paymentMethods: PaymentMethodRec[];
  customers: CustomerRec[];
  attachments: AttachmentRec[];
  salesInvoices: SalesInvoiceRec[];
  ledgerEntries: LedgerEntryRec[];
  applications: ApplicationRec[];
  glEntries: GlEntryRec[];
  journalBatches: JournalBatchRec[];
  journalLines: JournalLineRec[];
  subscriptions: SubscriptionRec[];
}

export function emptyState(): BcState {
  return {
    version: 1,
    counters: { entryNo: 0, glEntryNo: 0, invoiceNo: 103000, paymentNo: 0, creditMemoNo: 104000 },
    companies: [],
    glAccounts: [],
    paymentMethods: [],
    customers: [],
    attachments: [],
    salesInvoices: [],
    ledgerEntries: [],
    applications: [],
    glEntries: [],
    journalBatches: [],
    journalLines: [],
    subscriptions: [],
  };
}

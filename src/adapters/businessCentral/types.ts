import type { Decimal } from '../../domain/decimal';
import type { Money } from '../../domain/money';

// Domain shapes returned by the Business Central client. Amounts are Money (integer minor units + currency);
// BC's encoded enum values are decoded ("Credit_x0020_Memo" -> "Credit Memo").

export type InvoiceStatus = 'Draft' | 'In Review' | 'Open' | 'Paid' | 'Canceled' | 'Corrective' | '';

export interface BcCompanyInformation {
  id: string;
  displayName: string;
  /** Local currency (LCY) code. */
  currencyCode: string;
}

export interface BcAddress {
  line1: string;
  line2: string;
  city: string;
  state: string;
  country: string;
  postalCode: string;
}

export interface BcAttachment {
  id: string;
  parentId: string;
  fileName: string;
  byteSize: number;
  lastModifiedDateTime: string;
}

export interface BcCustomer {
  id: string;
  number: string;
  displayName: string;
  type: 'Company' | 'Person';
  email: string;
  phoneNumber: string;
  website: string;
  address: BcAddress;
  currencyCode: string;
  paymentMethodId: string | null;
  /** '' (not blocked), Ship, Invoice, All. */
  blocked: string;
  balanceDue: Money;
  lastModifiedDateTime: string;
  etag: string;
  /** Present when read with details (custom API page; absent from API v2.0). */
  postingGroup?: string | null;
  attachments?: BcAttachment[];
}

export interface BcPaymentMethod {
  id: string;
  code: string;
  displayName: string;
}

export interface BcSalesInvoiceLine {
  id: string;
  sequence: number;
  lineType: string;
  lineObjectNumber: string;
  description: string;
  unitOfMeasureCode: string;
  /** Decimal quantity as BC sends it (not money). */
  quantity: number;
  /** Exact, up to 5 decimals (Business Central's unit-amount precision, finer than money: 0.125 per unit). */
  unitPrice: Decimal;
  discountPercent: number;
  discount: Money;
  /** Before the invoice discount; `tax` is this line's own tax, rounded by itself (the API computes it per line). */
  amountExcludingTax: Money;
  taxCode: string;
  taxPercent: number;
  tax: Money;
  amountIncludingTax: Money;
  /** The posted line's Amount (after the invoice discount) and its share of the document's tax: they add up to the header. */
  netAmount: Money;
  netTax: Money;
  netAmountIncludingTax: Money;
}

export interface BcSalesInvoice {
  id: string;
  number: string;
  externalDocumentNumber: string;
  customerPurchaseOrderReference: string;
  invoiceDate: string;
  postingDate: string;
  dueDate: string;
  customerId: string;
  customerNumber: string;
  customerName: string;
  billToCustomerId: string;
  billToCustomerNumber: string;
  currencyCode: string;
  pricesIncludeTax: boolean;
  status: InvoiceStatus;
  totalExcludingTax: Money;
  totalTax: Money;
  totalIncludingTax: Money;
  discount: Money;
  remaining: Money;
  email: string;
  phoneNumber: string;
  lastModifiedDateTime: string;
  /** Present when read with lines. */
  lines?: BcSalesInvoiceLine[];
  /** The sell-to customer (`customerId`), present when read with it and it exists. */
  customer?: BcCustomer;
}

export interface BcJournal {
  id: string;
  code: string;
  displayName: string;
  /** Only on journals (general); customerPaymentJournals are always the cash receipts template. */
  templateDisplayName?: string;
  balancingAccountNumber: string;
}

export interface BcCustomerPaymentLine {
  id: string;
  journalId: string;
  lineNumber: number;
  customerId: string;
  customerNumber: string;
  postingDate: string;
  documentNumber: string;
  externalDocumentNumber: string;
  /** As BC holds it: negative for a payment. */
  amount: Money;
  appliesToInvoiceId: string | null;
  appliesToInvoiceNumber: string;
  description: string;
  comment: string;
  etag: string;
}

export interface NewCustomerPayment {
  customerNumber?: string;
  /** BC's sign: a payment must be negative (BC refuses to post a positive one). */
  amount: Money;
  externalDocumentNumber: string;
  postingDate?: string;
  documentNumber?: string;
  appliesToInvoiceId?: string;
  appliesToInvoiceNumber?: string;
  description?: string;
  comment?: string;
}

export type JournalAccountType = 'G/L Account' | 'Customer' | 'Vendor' | 'Bank Account';

export interface BcJournalLine {
  id: string;
  journalId: string;
  lineNumber: number;
  accountType: JournalAccountType;
  accountNumber: string;
  postingDate: string;
  documentNumber: string;
  externalDocumentNumber: string;
  /** Debit positive, credit negative. */
  amount: Money;
  description: string;
  comment: string;
  balanceAccountType: string;
  balancingAccountNumber: string;
  etag: string;
}

export interface NewJournalLine {
  accountType: JournalAccountType;
  accountNumber: string;
  /** Debit positive (e.g. a refund to a customer), credit negative. */
  amount: Money;
  documentNumber: string;
  externalDocumentNumber?: string;
  postingDate?: string;
  description?: string;
  comment?: string;
  /** Defaults to the batch's balancing account. */
  balancingAccountNumber?: string;
}

export type LedgerDocumentType = 'Invoice' | 'Payment' | 'Credit Memo' | 'Refund' | 'Finance Charge Memo' | 'Reminder' | '';

export interface BcLedgerEntry {
  entryNumber: number;
  documentType: LedgerDocumentType;
  documentNumber: string;
  externalDocumentNumber: string;
  customerNumber: string;
  postingDate: string;
  description: string;
  /** Signed like BC: invoices positive, payments and credit memos negative. */
  amount: Money;
  open: boolean;
  balancingAccountType: string;
  balancingAccountNumber: string;
  lastModifiedDateTime: string;
}

export interface BcGlEntry {
  id: string;
  entryNumber: number;
  postingDate: string;
  documentNumber: string;
  documentType: string;
  accountNumber: string;
  description: string;
  debit: Money;
  credit: Money;
}

export interface BcSubscription {
  subscriptionId: string;
  notificationUrl: string;
  resource: string;
  clientState: string;
  expirationDateTime: string;
  lastModifiedDateTime: string;
  etag: string;
}

/** One item of a webhook notification body ({ value: [...] }). */
export interface BcNotification {
  subscriptionId: string;
  clientState: string;
  expirationDateTime: string;
  resource: string;
  changeType: 'created' | 'updated' | 'deleted' | 'collection';
  lastModifiedDateTime: string;
}

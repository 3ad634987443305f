import { z } from 'zod';
import { toDecimalNumber, type Money } from '../../domain/money';
import { ExternalServiceError } from '../http/errors';
import { keyedBatch } from '../http/keyedBatch';
import { chunks } from '../chunks';
import { singleFlight } from '../singleFlight';
import { postCashReceipt, type CashReceiptRequest, type CashReceiptResult } from './cashReceipt';
import { checkConfig, DEFAULTS, type BusinessCentralConfig } from './config';
import { BcHttp, type Logger } from './http';
import * as s from './schemas';
import { TokenProvider } from './token';
import type {
  BcAttachment,
  BcCompanyInformation,
  BcCustomer,
  BcCustomerPaymentLine,
  BcGlEntry,
  BcJournal,
  BcJournalLine,
  BcLedgerEntry,
  BcPaymentMethod,
  BcSalesInvoice,
  BcSubscription,
  InvoiceStatus,
  LedgerDocumentType,
  NewCustomerPayment,
  NewJournalLine,
} from './types';

// The production Business Central client (API v2.0 + reportsFinance + the posting-group custom API). Methods return
// domain objects; every body is validated; failures are ExternalServiceErrors classified for Temporal retries.

/** OData string literal: quotes doubled. */
export const odataString = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** Keys per OR-filter query: 20 keys of up to 35 characters keep the URL near 1.5 KB. */
const FILTER_KEYS_PER_QUERY = 20;

/**
 * Invoice reads with lines or customer (an invoice sync's) wait this long for others (or until twenty have come)
 * before going out. A burst of posted invoices then costs BC's quota one request per twenty, not one each (1,200 a
 * minute capped a burst at 19 invoices a second); a sync is at most 50 ms later. Plain lookups (the payment paths')
 * still go out at once.
 */
const EXPANDED_READ_GATHER_MS = 50;

/** `field eq 'a' or field eq 'b' …`: BC's OData takes an OR over one field (not across fields). */
function anyOf(field: string, values: readonly string[]): string {
  return values.map((v) => `${field} eq ${odataString(v)}`).join(' or ');
}

function query(params: Record<string, string | undefined>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${encodeURIComponent(v!)}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

const MAX_PAGES = 10_000;

export type BusinessCentralClient = ReturnType<typeof createBusinessCentralClient>;

export function createBusinessCentralClient(config: BusinessCentralConfig, deps: { logger?: Logger } = {}) {
  const cfg = checkConfig(config);
  const tokens = new TokenProvider({
    tokenUrl: cfg.tokenUrl,
    clientId: cfg.clientId,
    clientSecret: cfg.clientSecret,
    scope: cfg.scope,
    timeoutMs: cfg.timeoutMs ?? DEFAULTS.timeoutMs,
  });
  const http = new BcHttp(cfg, tokens, deps.logger);
  const envRoot = `${cfg.baseUrl}/v2.0/${encodeURIComponent(cfg.tenantId)}/${encodeURIComponent(cfg.environment)}/api`;
  const apiRoot = `${envRoot}/v2.0`;
  const company = `${apiRoot}/companies(${cfg.companyId})`;
  const reports = `${envRoot}/microsoft/reportsFinance/beta/companies(${cfg.companyId})`;
  const postingGroupApi = cfg.postingGroupApi === null ? null : (cfg.postingGroupApi ?? DEFAULTS.postingGroupApi);
  const custom = `${envRoot}/${postingGroupApi}/companies(${cfg.companyId})`;
  let lcy: Promise<string> | undefined;

  /** Every page; a function for `url` settles the first page's URL when it goes out (a batch of lookups). */
  async function getAll<T extends z.ZodType>(url: string | (() => string), item: T, what: string): Promise<z.output<T>[]> {
    const out: z.output<T>[] = [];
    let next: string | (() => string) | undefined = url;
    for (let pageNo = 0; next; pageNo++) {
      if (pageNo >= MAX_PAGES) throw new ExternalServiceError('business-central', `${what}: more than ${MAX_PAGES} pages`, { retryable: false, code: 'too_many_pages' });
      const page: { value: z.output<T>[]; '@odata.nextLink'?: string } = await http.request({ method: 'GET', url: next, what, schema: s.page(item) });
      out.push(...page.value);
      next = page['@odata.nextLink'];
    }
    return out;
  }

  // Lookups by key asked for while one of their kind waits under the rate limit go out together, 20 keys to a query
  // (src/adapters/http/keyedBatch.ts); each caller gets the rows of exactly its keys. Sales invoices by number batch
  // per `$expand` (a query expands the same for all of its keys), and the expanded ones gather first.
  const invoiceBatches = new Map<string, (numbers: readonly string[]) => Promise<BcSalesInvoice[]>>();
  const invoicesByNumber = (expand: string) => {
    let lookup = invoiceBatches.get(expand);
    if (!lookup) {
      lookup = keyedBatch<BcSalesInvoice>({
        maxKeys: FILTER_KEYS_PER_QUERY,
        read: async (take) =>
          (
            await getAll(
              () => `${company}/salesInvoices${query({ $filter: anyOf('number', take()), $expand: expand || undefined })}`,
              s.salesInvoiceSchema,
              `sales invoices by number${expand ? ` with ${expand}` : ''}`,
            )
          ).map(s.toSalesInvoice),
        keyOf: (inv) => inv.number,
        gatherMs: expand ? EXPANDED_READ_GATHER_MS : 0,
      });
      invoiceBatches.set(expand, lookup);
    }
    return lookup;
  };
  /** Sales invoices (without lines) with any of these numbers. */
  const findSalesInvoicesByNumbers = invoicesByNumber('');
  /** Customer ledger entries carrying any of these external document numbers (an OR over one field, which BC allows). */
  const findEntriesByExternalDocumentNumbers = keyedBatch<BcLedgerEntry>({
    maxKeys: FILTER_KEYS_PER_QUERY,
    read: (take) => ledgerEntries(() => anyOf('externalDocumentNumber', take()), 'ledger entries by external document number'),
    keyOf: (e) => e.externalDocumentNumber,
  });
  /**
   * Customer ledger entries with any of these document numbers. No gathering wait (a notification of one invoice would
   * start its workflow 50 ms later): the notification's reader asks for a group's numbers in one call, and lookups that
   * queue under the quota join each other anyway.
   */
  const findEntriesByDocumentNumbers = keyedBatch<BcLedgerEntry>({
    maxKeys: FILTER_KEYS_PER_QUERY,
    read: (take) => ledgerEntries(() => anyOf('documentNumber', take()), 'ledger entries by document number'),
    keyOf: (e) => e.documentNumber,
  });

  /**
   * Which of these numbers are posted invoices, by their invoice entry in the customer ledger. `Open` is also the status
   * of a released draft that was never posted (API v2.0 does not expose the difference): only a posted invoice has an
   * entry. Ask for the numbers of invoices read as `Open`; the rest say it with their status.
   */
  async function postedInvoiceNumbers(numbers: readonly string[]): Promise<Set<string>> {
    if (numbers.length === 0) return new Set();
    const entries = await findEntriesByDocumentNumbers([...new Set(numbers)]);
    return new Set(entries.filter((e) => e.documentType === 'Invoice').map((e) => e.documentNumber));
  }

  const getOne = <T extends z.ZodType>(url: string, item: T, what: string) =>
    http.request({ method: 'GET', url, what, schema: item }) as Promise<z.output<T>>;

  /** GET that maps 404 to null. */
  async function maybe<T>(fn: () => Promise<T>): Promise<T | null> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ExternalServiceError && err.status === 404) return null;
      throw err;
    }
  }

  const localCurrency = (): Promise<string> => {
    lcy ??= getCompanyInformation()
      .then((c) => c.currencyCode)
      .catch((err) => {
        lcy = undefined;
        throw err;
      });
    return lcy;
  };

  async function getCompanyInformation(): Promise<BcCompanyInformation> {
    const [info] = await getAll(`${company}/companyInformation`, s.companyInformationSchema, 'company information');
    if (!info) throw new ExternalServiceError('business-central', 'company information is empty', { retryable: false, code: 'not_found' });
    return info;
  }

  // ---- customers

  async function getPostingGroup(customerNumber: string): Promise<string | null> {
    if (postingGroupApi === null) return null;
    try {
      const rows = await getAll(`${custom}/customerPostingGroups${query({ $filter: `customerNumber eq ${odataString(customerNumber)}` })}`, s.postingGroupSchema, `posting group of customer ${customerNumber}`);
      return rows[0]?.customerPostingGroup ?? null;
    } catch (err) {
      // The entity set itself is missing (a filter that matches nothing answers an empty list): say what to install.
      if (err instanceof ExternalServiceError && err.status === 404) {
        throw new ExternalServiceError(
          'business-central',
          `customer posting groups cannot be read: Business Central has no API page api/${postingGroupApi}/customerPostingGroups (add that page, see the README, or choose no portal connection by posting group)`,
          { retryable: false, status: 404, code: 'posting_group_api_missing' },
        );
      }
      throw err;
    }
  }

  async function withDetails(c: BcCustomer): Promise<BcCustomer> {
    return { ...c, postingGroup: await getPostingGroup(c.number) };
  }

  // Invoices of one customer synced at once each read the customer (link templates, contact): one read serves them.
  const customerReads = singleFlight<BcCustomer | null>();
  function getCustomerByNumber(number: string, opts: { details?: boolean } = { details: true }): Promise<BcCustomer | null> {
    return customerReads(`${number}\n${opts.details ? 'details' : 'plain'}`, () => readCustomerByNumber(number, opts));
  }

  async function readCustomerByNumber(number: string, opts: { details?: boolean }): Promise<BcCustomer | null> {
    const rows = await getAll(
      `${company}/customers${query({ $filter: `number eq ${odataString(number)}`, $expand: opts.details ? 'documentAttachments' : undefined })}`,
      s.customerSchema,
      `customer ${number}`,
    );
    if (!rows[0]) return null;
    const c = s.toCustomer(rows[0]);
    return opts.details ? withDetails(c) : c;
  }

  async function getCustomer(id: string, opts: { details?: boolean } = { details: true }): Promise<BcCustomer | null> {
    const raw = await maybe(() => getOne(`${company}/customers(${id})${query({ $expand: opts.details ? 'documentAttachments' : undefined })}`, s.customerSchema, `customer ${id}`));
    if (!raw) return null;
    const c = s.toCustomer(raw);
    return opts.details ? withDetails(c) : c;
  }

  async function listCustomers(opts: { modifiedSince?: string } = {}): Promise<BcCustomer[]> {
    const filter = opts.modifiedSince ? `lastModifiedDateTime gt ${opts.modifiedSince}` : undefined;
    return (await getAll(`${company}/customers${query({ $filter: filter })}`, s.customerSchema, 'customers')).map(s.toCustomer);
  }

  async function listCustomerAttachments(customerId: string): Promise<BcAttachment[]> {
    return (await getAll(`${company}/customers(${customerId})/documentAttachments`, s.attachmentSchema, `attachments of customer ${customerId}`)).map(s.toAttachment);
  }

  async function downloadAttachment(customerId: string, attachmentId: string): Promise<Buffer> {
    return http.request<Buffer>({
      method: 'GET',
      url: `${company}/customers(${customerId})/documentAttachments(${attachmentId})/attachmentContent`,
      what: `attachment ${attachmentId}`,
      binary: true,
    });
  }

  async function listPaymentMethods(): Promise<BcPaymentMethod[]> {
    return (await getAll(`${company}/paymentMethods`, s.paymentMethodSchema, 'payment methods')).map(s.toPaymentMethod);
  }

  // ---- sales invoices

  async function getSalesInvoice(id: string, opts: { lines?: boolean } = { lines: true }): Promise<BcSalesInvoice | null> {
    const raw = await maybe(() =>
      getOne(`${company}/salesInvoices(${id})${query({ $expand: opts.lines ? 'salesInvoiceLines' : undefined })}`, s.salesInvoiceSchema, `sales invoice ${id}`),
    );
    return raw ? s.toSalesInvoice(raw) : null;
  }

  /**
   * `customer` expands the sell-to customer into the same request (one request against BC's quota, not two). Lookups
   * with the same expansion asked while one gathers or waits for its turn share its query: a burst of invoice syncs
   * reads its invoices, lines and customers twenty to a request.
   */
  async function getSalesInvoiceByNumber(number: string, opts: { lines?: boolean; customer?: boolean } = { lines: true }): Promise<BcSalesInvoice | null> {
    const expand = [opts.lines ? 'salesInvoiceLines' : '', opts.customer ? 'customer' : ''].filter(Boolean).join(',');
    return (await invoicesByNumber(expand)([number]))[0] ?? null;
  }

  /** Sales invoices (without lines) with any of these ids (a notification's resources), one query per 20. */
  async function getSalesInvoicesByIds(ids: readonly string[]): Promise<BcSalesInvoice[]> {
    const out: BcSalesInvoice[] = [];
    const wanted = [...new Set(ids.map((id) => id.toLowerCase()))];
    for (const chunk of chunks(wanted, FILTER_KEYS_PER_QUERY)) {
      // Edm.Guid literals go unquoted.
      const filter = chunk.map((id) => `id eq ${id}`).join(' or ');
      const rows = await getAll(`${company}/salesInvoices${query({ $filter: filter })}`, s.salesInvoiceSchema, `sales invoices by id (${chunk.length})`);
      out.push(...rows.map(s.toSalesInvoice));
    }
    return out.filter((inv) => wanted.includes(inv.id.toLowerCase()));
  }

  async function listSalesInvoices(opts: { modifiedSince?: string; status?: InvoiceStatus; lines?: boolean } = {}): Promise<BcSalesInvoice[]> {
    const filters = [opts.modifiedSince && `lastModifiedDateTime gt ${opts.modifiedSince}`, opts.status && `status eq ${odataString(opts.status)}`].filter(Boolean);
    const url = `${company}/salesInvoices${query({ $filter: filters.join(' and ') || undefined, $expand: opts.lines ? 'salesInvoiceLines' : undefined })}`;
    return (await getAll(url, s.salesInvoiceSchema, 'sales invoices')).map(s.toSalesInvoice);
  }

  // ---- journals and customer payments

  async function findJournalBatch(code: string): Promise<BcJournal | null> {
    const rows = await getAll(`${company}/customerPaymentJournals${query({ $filter: `code eq ${odataString(code)}` })}`, s.journalSchema, `customer payment journal ${code}`);
    return rows[0] ? s.toJournal(rows[0]) : null;
  }

  async function findGeneralJournal(code: string): Promise<BcJournal | null> {
    const rows = await getAll(`${company}/journals${query({ $filter: `code eq ${odataString(code)}` })}`, s.journalSchema, `journal ${code}`);
    return rows[0] ? s.toJournal(rows[0]) : null;
  }

  /** The batch and its unposted lines in one request (`$expand=customerPayments`), as the two reads above give them. */
  async function findJournalBatchWithLines(code: string): Promise<{ journal: BcJournal; lines: BcCustomerPaymentLine[] } | null> {
    const cur = await localCurrency();
    const url = `${company}/customerPaymentJournals${query({ $filter: `code eq ${odataString(code)}`, $expand: 'customerPayments' })}`;
    const row = (await getAll(url, s.journalWithPaymentsSchema, `customer payment journal ${code} with its lines`))[0];
    if (!row) return null;
    const { customerPayments, ...journal } = row;
    return { journal: s.toJournal(journal), lines: customerPayments.map((l) => s.toCustomerPayment(l, cur)) };
  }

  /** The general journal batch and its unposted lines in one request (`$expand=journalLines`). */
  async function findGeneralJournalWithLines(code: string): Promise<{ journal: BcJournal; lines: BcJournalLine[] } | null> {
    const cur = await localCurrency();
    const url = `${company}/journals${query({ $filter: `code eq ${odataString(code)}`, $expand: 'journalLines' })}`;
    const row = (await getAll(url, s.journalWithLinesSchema, `journal ${code} with its lines`))[0];
    if (!row) return null;
    const { journalLines, ...journal } = row;
    return { journal: s.toJournal(journal), lines: journalLines.map((l) => s.toJournalLine(l, cur)) };
  }

  async function findCustomerPaymentLines(journalId: string, externalDocumentNumber?: string, currency?: string): Promise<BcCustomerPaymentLine[]> {
    const cur = currency ?? (await localCurrency());
    const filter = [`journalId eq ${journalId}`, externalDocumentNumber !== undefined && `externalDocumentNumber eq ${odataString(externalDocumentNumber)}`].filter(Boolean).join(' and ');
    const rows = await getAll(`${company}/customerPaymentJournals(${journalId})/customerPayments${query({ $filter: filter })}`, s.customerPaymentSchema, `customer payments in journal ${journalId}`);
    return rows.map((r) => s.toCustomerPayment(r, cur));
  }

  async function createCustomerPayment(journalId: string, line: NewCustomerPayment): Promise<BcCustomerPaymentLine> {
    const body = {
      ...(line.customerNumber ? { customerNumber: line.customerNumber } : {}),
      amount: toDecimalNumber(line.amount.minor, line.amount.currency),
      externalDocumentNumber: line.externalDocumentNumber,
      ...(line.postingDate ? { postingDate: line.postingDate } : {}),
      ...(line.documentNumber ? { documentNumber: line.documentNumber } : {}),
      ...(line.appliesToInvoiceId ? { appliesToInvoiceId: line.appliesToInvoiceId } : {}),
      ...(line.appliesToInvoiceNumber ? { appliesToInvoiceNumber: line.appliesToInvoiceNumber } : {}),
      ...(line.description ? { description: line.description } : {}),
      ...(line.comment ? { comment: line.comment } : {}),
    };
    const raw = await http.request({
      method: 'POST',
      url: `${company}/customerPaymentJournals(${journalId})/customerPayments`,
      what: `customer payment ${line.externalDocumentNumber}`,
      body,
      schema: s.customerPaymentSchema,
    });
    return s.toCustomerPayment(raw, line.amount.currency);
  }

  async function updateCustomerPayment(line: Pick<BcCustomerPaymentLine, 'id' | 'etag'>, patch: Partial<Omit<NewCustomerPayment, 'amount'>> & { amount?: Money }): Promise<BcCustomerPaymentLine> {
    const { amount, ...rest } = patch;
    const raw = await http.request({
      method: 'PATCH',
      url: `${company}/customerPayments(${line.id})`,
      what: `customer payment line ${line.id}`,
      headers: { 'if-match': line.etag },
      body: { ...rest, ...(amount ? { amount: toDecimalNumber(amount.minor, amount.currency) } : {}) },
      schema: s.customerPaymentSchema,
    });
    return s.toCustomerPayment(raw, amount?.currency ?? (await localCurrency()));
  }

  async function deleteCustomerPayment(lineId: string): Promise<void> {
    try {
      await http.request({ method: 'DELETE', url: `${company}/customerPayments(${lineId})`, what: `customer payment line ${lineId}` });
    } catch (err) {
      if (err instanceof ExternalServiceError && err.status === 404) return; // already gone
      throw err;
    }
  }

  /** Posts every line of the batch (journals({id})/Microsoft.NAV.post; also for customer payment batches). */
  async function postJournal(journalId: string): Promise<void> {
    await http.request({ method: 'POST', url: `${company}/journals(${journalId})/Microsoft.NAV.post`, what: `posting of journal ${journalId}` });
  }

  async function findJournalLines(journalId: string, documentNumber?: string, currency?: string): Promise<BcJournalLine[]> {
    const cur = currency ?? (await localCurrency());
    const filter = documentNumber !== undefined ? `documentNumber eq ${odataString(documentNumber)}` : undefined;
    const rows = await getAll(`${company}/journals(${journalId})/journalLines${query({ $filter: filter })}`, s.journalLineSchema, `journal lines in ${journalId}`);
    return rows.map((r) => s.toJournalLine(r, cur));
  }

  /** A general journal line: refunds and reversals to a customer account (debit, positive), fees to G/L (credit). */
  async function createJournalLine(journalId: string, line: NewJournalLine): Promise<BcJournalLine> {
    const body = {
      accountType: line.accountType,
      accountNumber: line.accountNumber,
      amount: toDecimalNumber(line.amount.minor, line.amount.currency),
      documentNumber: line.documentNumber,
      ...(line.externalDocumentNumber ? { externalDocumentNumber: line.externalDocumentNumber } : {}),
      ...(line.postingDate ? { postingDate: line.postingDate } : {}),
      ...(line.description ? { description: line.description } : {}),
      ...(line.comment ? { comment: line.comment } : {}),
      ...(line.balancingAccountNumber ? { balanceAccountType: 'G/L Account', balancingAccountNumber: line.balancingAccountNumber } : {}),
    };
    const raw = await http.request({ method: 'POST', url: `${company}/journals(${journalId})/journalLines`, what: `journal line ${line.documentNumber}`, body, schema: s.journalLineSchema });
    return s.toJournalLine(raw, line.amount.currency);
  }

  async function deleteJournalLine(lineId: string): Promise<void> {
    try {
      await http.request({ method: 'DELETE', url: `${company}/journalLines(${lineId})`, what: `journal line ${lineId}` });
    } catch (err) {
      if (err instanceof ExternalServiceError && err.status === 404) return;
      throw err;
    }
  }

  // ---- ledger

  /** Customer ledger entries by filter (a function: settled when the request goes out, for a batch of lookups). */
  async function ledgerEntries(filter: string | (() => string), what: string): Promise<BcLedgerEntry[]> {
    const cur = await localCurrency();
    const url = () => `${reports}/customerLedgerEntries${query({ $filter: typeof filter === 'function' ? filter() : filter })}`;
    const rows = await getAll(url, s.ledgerEntrySchema, what);
    return rows.map((r) => s.toLedgerEntry(r, cur));
  }

  /**
   * Posted customer ledger entries whose external document number, or else document number, is `key`. Two queries:
   * BC's OData cannot OR across different fields.
   */
  async function findPostedEntries(key: string): Promise<BcLedgerEntry[]> {
    const byExternal = await ledgerEntries(`externalDocumentNumber eq ${odataString(key)}`, `ledger entries for ${key}`);
    if (byExternal.length > 0) return byExternal;
    return ledgerEntries(`documentNumber eq ${odataString(key)}`, `ledger entries for ${key}`);
  }

  /** Customer ledger entries by entry number (an integer field: the values go unquoted), 20 to a query. */
  async function findEntriesByEntryNumbers(entryNumbers: readonly number[]): Promise<BcLedgerEntry[]> {
    const out: BcLedgerEntry[] = [];
    for (const chunk of chunks([...new Set(entryNumbers.filter((n) => Number.isInteger(n) && n > 0))], FILTER_KEYS_PER_QUERY)) {
      out.push(...(await ledgerEntries(chunk.map((n) => `entryNumber eq ${n}`).join(' or '), `ledger entries ${chunk.join(', ')}`)));
    }
    return out;
  }

  async function listCustomerLedgerEntriesSince(isoTimestamp: string, opts: { documentType?: LedgerDocumentType } = {}): Promise<BcLedgerEntry[]> {
    if (Number.isNaN(Date.parse(isoTimestamp))) throw new RangeError(`not an ISO timestamp: ${isoTimestamp}`);
    const filters = [`lastModifiedDateTime gt ${new Date(isoTimestamp).toISOString()}`];
    if (opts.documentType !== undefined) filters.unshift(`documentType eq ${odataString(opts.documentType)}`);
    return ledgerEntries(filters.join(' and '), `ledger entries since ${isoTimestamp}`);
  }

  async function findGeneralLedgerEntries(documentNumber: string): Promise<BcGlEntry[]> {
    return findGeneralLedgerEntriesOf([documentNumber]);
  }

  /** G/L entries of any of these document numbers (one query per 20, as above). */
  async function findGeneralLedgerEntriesOf(documentNumbers: readonly string[]): Promise<BcGlEntry[]> {
    const cur = await localCurrency();
    const out: BcGlEntry[] = [];
    for (const chunk of chunks([...new Set(documentNumbers)], FILTER_KEYS_PER_QUERY)) {
      const rows = await getAll(`${company}/generalLedgerEntries${query({ $filter: anyOf('documentNumber', chunk) })}`, s.glEntrySchema, `G/L entries ${chunk.join(', ')}`.slice(0, 200));
      out.push(...rows.map((r) => s.toGlEntry(r, cur)));
    }
    return out.filter((e) => documentNumbers.includes(e.documentNumber));
  }

  // ---- webhook subscriptions

  /** The resource path for a company entity set, as subscriptions expect it. */
  const resourceFor = (entitySet: string) => `/api/v2.0/companies(${cfg.companyId})/${entitySet}`;

  async function createSubscription(input: { notificationUrl: string; entitySet?: string; resource?: string; clientState: string }): Promise<BcSubscription> {
    if (input.clientState.length > 250) throw new RangeError('clientState must be 250 characters or fewer');
    const raw = await http.request({
      method: 'POST',
      url: `${apiRoot}/subscriptions`,
      what: 'webhook subscription',
      body: { notificationUrl: input.notificationUrl, resource: input.resource ?? resourceFor(input.entitySet ?? 'salesInvoices'), clientState: input.clientState },
      schema: s.subscriptionSchema,
    });
    return s.toSubscription(raw);
  }

  async function getSubscription(id: string): Promise<BcSubscription | null> {
    const raw = await maybe(() => getOne(`${apiRoot}/subscriptions(${odataString(id)})`, s.subscriptionSchema, `subscription ${id}`));
    return raw ? s.toSubscription(raw) : null;
  }

  async function listSubscriptions(): Promise<BcSubscription[]> {
    return (await getAll(`${apiRoot}/subscriptions`, s.subscriptionSchema, 'subscriptions')).map(s.toSubscription);
  }

  /** Renews for another 3 days (BC runs the handshake again); reads the current ETag when none is given. */
  async function renewSubscription(id: string, opts: { etag?: string; notificationUrl?: string; clientState?: string } = {}): Promise<BcSubscription> {
    const etag = opts.etag ?? (await getSubscription(id))?.etag;
    if (!etag) throw new ExternalServiceError('business-central', `subscription ${id} does not exist`, { status: 404, code: 'BadRequest_NotFound', retryable: false });
    const body = {
      ...(opts.notificationUrl ? { notificationUrl: opts.notificationUrl } : {}),
      ...(opts.clientState !== undefined ? { clientState: opts.clientState } : {}),
    };
    const raw = await http.request({ method: 'PATCH', url: `${apiRoot}/subscriptions(${odataString(id)})`, what: `renewal of subscription ${id}`, headers: { 'if-match': etag }, body, schema: s.subscriptionSchema });
    return s.toSubscription(raw);
  }

  async function deleteSubscription(id: string): Promise<void> {
    try {
      await http.request({ method: 'DELETE', url: `${apiRoot}/subscriptions(${odataString(id)})`, what: `subscription ${id}` });
    } catch (err) {
      if (err instanceof ExternalServiceError && err.status === 404) return;
      throw err;
    }
  }

  const client = {
    config: { baseUrl: cfg.baseUrl, tenantId: cfg.tenantId, environment: cfg.environment, companyId: cfg.companyId },
    localCurrency,
    getCompanyInformation,
    getCustomer,
    getCustomerByNumber,
    listCustomers,
    getPostingGroup,
    listCustomerAttachments,
    downloadAttachment,
    listPaymentMethods,
    getSalesInvoice,
    getSalesInvoiceByNumber,
    listSalesInvoices,
    findJournalBatch,
    findGeneralJournal,
    findJournalBatchWithLines,
    findGeneralJournalWithLines,
    findCustomerPaymentLines,
    createCustomerPayment,
    updateCustomerPayment,
    deleteCustomerPayment,
    postJournal,
    findJournalLines,
    createJournalLine,
    deleteJournalLine,
    findPostedEntries,
    findSalesInvoicesByNumbers,
    getSalesInvoicesByIds,
    findEntriesByExternalDocumentNumbers,
    findGeneralLedgerEntriesOf,
    listCustomerLedgerEntriesSince,
    findEntriesByEntryNumbers,
    postedInvoiceNumbers,
    findGeneralLedgerEntries,
    resourceFor,
    createSubscription,
    getSubscription,
    listSubscriptions,
    renewSubscription,
    deleteSubscription,
    /** Idempotent cash receipt: see cashReceipt.ts. The caller serialises calls per journal batch. */
    postCashReceipt: (req: CashReceiptRequest): Promise<CashReceiptResult> => postCashReceipt(client, req),
  };
  return client;
}

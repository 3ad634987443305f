import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { formatDecimal, parseDecimal } from '../../domain/money';
import { BcError, dialog, sendBcError } from './bcError';
import { nowIso, today } from './clock';
import { faultPatchSchema, type FaultInjector } from '../common/faults';
import {
  applicationsOf,
  cancelInvoice,
  companyOf,
  createSalesInvoice,
  creditInvoice,
  findCustomer,
  invoiceRemaining,
  invoiceStatus,
  postCustomerLine,
  postDraftInvoice,
  releaseDraftInvoice,
  remainingOf,
  transaction,
  unapplyEntry,
  type Ctx,
} from './ledger';
import type { AttachmentRec, CustomerRec, LedgerEntryRec, SalesInvoiceRec } from './model';
import { DEMO_COMPANY_ID, seedDemo } from './seed';
import { parseUnitPrice } from './tax';
import type { NotificationDelivery, Webhooks } from './webhooks';
import type { TokenIssuer } from './auth';

// Acting as an ERP user: what people do inside Business Central (maintain customers, post invoices, record and
// unapply payments, cancel or credit invoices). Not part of the BC API: a typed object for in-process tests and
// /admin/* HTTP routes (shared admin token header) for the CLI and the stack. Amounts are decimal text here, as a
// user types them; they are converted to minor units at this edge.

export interface CustomerInput {
  number?: string;
  displayName: string;
  email?: string;
  phoneNumber?: string;
  type?: 'Company' | 'Person';
  addressLine1?: string;
  city?: string;
  state?: string;
  country?: string;
  postalCode?: string;
  postingGroup?: string;
  paymentMethodCode?: string;
  currencyCode?: string;
  blocked?: '' | 'Ship' | 'Invoice' | 'All';
}

export interface InvoiceLineInput {
  description: string;
  quantity: string | number;
  unitPrice: string | number;
  taxPercent?: string | number;
  discountPercent?: string | number;
  lineType?: 'Item' | 'Account' | 'Resource' | 'Comment';
  lineObjectNumber?: string;
}

export interface InvoiceInput {
  customerNumber: string;
  lines: InvoiceLineInput[];
  postingDate?: string;
  dueDate?: string;
  externalDocumentNumber?: string;
  customerPurchaseOrderReference?: string;
  /** Amount paid at posting (decimal). */
  paidAtPosting?: string | number;
  draft?: boolean;
}

export interface InvoiceView {
  id: string;
  number: string;
  customerNumber: string;
  status: string;
  currencyCode: string;
  totalExcludingTax: string;
  totalTax: string;
  totalIncludingTax: string;
  remaining: string;
  lastModifiedDateTime: string;
}

export interface LedgerEntryView {
  entryNumber: number;
  customerNumber: string;
  documentType: string;
  documentNumber: string;
  externalDocumentNumber: string;
  postingDate: string;
  amount: string;
  remaining: string;
  open: boolean;
  currencyCode: string;
  lastModifiedDateTime: string;
}

export interface BcAdmin {
  companyId: string;
  seedDemo(): void;
  listCustomers(): CustomerRec[];
  createCustomer(input: CustomerInput): CustomerRec;
  updateCustomer(number: string, patch: Partial<CustomerInput>): CustomerRec;
  addCustomerAttachment(number: string, file: { fileName: string; content: Buffer | string }): AttachmentRec;
  postInvoice(input: InvoiceInput): InvoiceView;
  /** Several invoices posted in one transaction (one state snapshot rather than one per invoice: bulk set-ups). */
  postInvoices(inputs: InvoiceInput[]): InvoiceView[];
  postDraftInvoice(number: string): InvoiceView;
  /** Releases a draft: unposted, but the API reads it as `Open`. */
  releaseDraftInvoice(number: string): InvoiceView;
  getInvoice(number: string): InvoiceView;
  listInvoices(): InvoiceView[];
  /** A payment entered and posted inside the ERP, applied to the invoice (partial or full). */
  recordPayment(input: { invoiceNumber: string; amount: string | number; postingDate?: string; externalDocumentNumber?: string; paymentMethodCode?: string }): LedgerEntryView;
  /** Unapplies a payment (by its ledger entry number or document number); the invoice reopens. */
  unapplyPayment(ref: { entryNumber?: number; documentNumber?: string }): LedgerEntryView[];
  cancelInvoice(number: string): InvoiceView;
  /** Corrective credit memo applied to the invoice, for the whole remaining amount unless `amount` is given. */
  creditInvoice(number: string, amount?: string | number): LedgerEntryView;
  listLedgerEntries(filter?: { customerNumber?: string; documentNumber?: string }): LedgerEntryView[];
  listApplications(): { entryNumber: number; invoiceEntryNumber: number; creditEntryNumber: number; amount: string; unapplied: boolean }[];
  /** Sends pending webhook notifications now instead of at the end of the coalescing window. */
  flushNotifications(): Promise<void>;
  /** The latest notification attempts (up to 1,000), oldest first. */
  notificationDeliveries(): NotificationDelivery[];
  /** Invalidates every issued access token. */
  revokeTokens(): void;
}

export function createAdmin(ctx: Ctx, touch: () => void, webhooks: Webhooks, auth: TokenIssuer, companyId = DEMO_COMPANY_ID): BcAdmin {
  const state = ctx.state;
  const lcy = () => companyOf(state, companyId).lcyCode;
  const customerOrThrow = (number: string) => {
    const c = findCustomer(state, companyId, number);
    if (!c) throw new BcError(404, 'BadRequest_NotFound', `Customer ${number} does not exist.`);
    return c;
  };
  const invoiceOrThrow = (number: string) => {
    const inv = state.salesInvoices.find((i) => i.companyId === companyId && i.number === number);
    if (!inv) throw new BcError(404, 'BadRequest_NotFound', `Sales invoice ${number} does not exist.`);
    return inv;
  };
  const money = (value: string | number, currency: string) => {
    try {
      return parseDecimal(value, currency || lcy());
    } catch (err) {
      throw dialog((err as Error).message);
    }
  };
  const unitPrice = (value: string | number) => {
    try {
      return parseUnitPrice(value);
    } catch (err) {
      throw dialog((err as Error).message);
    }
  };
  /** An invoice created and posted within `c` (the admin's context, or a transaction's). */
  const postInvoiceIn = (c: Ctx, input: InvoiceInput): SalesInvoiceRec => {
    const customer = customerOrThrow(input.customerNumber);
    const cur = customer.currencyCode || lcy();
    return createSalesInvoice(c, {
      companyId,
      customerNumber: input.customerNumber,
      postingDate: input.postingDate,
      dueDate: input.dueDate,
      externalDocumentNumber: input.externalDocumentNumber,
      customerPurchaseOrderReference: input.customerPurchaseOrderReference,
      draft: input.draft,
      paidAtPostingMinor: input.paidAtPosting === undefined ? undefined : money(input.paidAtPosting, cur),
      lines: input.lines.map((l) => ({
        description: l.description,
        quantity: String(l.quantity),
        unitPrice: unitPrice(l.unitPrice),
        taxPercent: l.taxPercent === undefined ? '0' : String(l.taxPercent),
        discountPercent: l.discountPercent === undefined ? '0' : String(l.discountPercent),
        lineType: l.lineType,
        lineObjectNumber: l.lineObjectNumber,
      })),
    });
  };
  const invoiceView = (inv: SalesInvoiceRec): InvoiceView => {
    const cur = inv.currencyCode || lcy();
    return {
      id: inv.id,
      number: inv.number,
      customerNumber: inv.customerNumber,
      status: invoiceStatus(state, inv),
      currencyCode: cur,
      totalExcludingTax: formatDecimal(inv.totalExclMinor, cur),
      totalTax: formatDecimal(inv.totalTaxMinor, cur),
      totalIncludingTax: formatDecimal(inv.totalInclMinor, cur),
      remaining: formatDecimal(invoiceRemaining(state, inv), cur),
      lastModifiedDateTime: inv.lastModifiedDateTime,
    };
  };
  const entryView = (e: LedgerEntryRec): LedgerEntryView => {
    const cur = e.currencyCode || lcy();
    const remaining = remainingOf(state, e);
    return {
      entryNumber: e.entryNumber,
      customerNumber: e.customerNumber,
      documentType: e.documentType,
      documentNumber: e.documentNumber,
      externalDocumentNumber: e.externalDocumentNumber,
      postingDate: e.postingDate,
      amount: formatDecimal(e.amountMinor, cur),
      remaining: formatDecimal(remaining, cur),
      open: remaining !== 0,
      currencyCode: cur,
      lastModifiedDateTime: e.lastModifiedDateTime,
    };
  };
  const customerChanged = (c: CustomerRec, changeType: 'created' | 'updated') => {
    c.lastModifiedDateTime = nowIso();
    ctx.emit({ companyId, entitySet: 'customers', id: c.id, changeType, at: c.lastModifiedDateTime });
    touch();
  };
  const checkCustomer = (input: Partial<CustomerInput>) => {
    if (input.email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(input.email)) throw dialog(`The email address "${input.email}" is not valid.`);
    if (input.paymentMethodCode && !state.paymentMethods.some((m) => m.companyId === companyId && m.code === input.paymentMethodCode))
      throw dialog(`The Payment Method does not exist. Identification fields and values: Code='${input.paymentMethodCode}'`);
  };

  return {
    companyId,
    seedDemo() {
      seedDemo(state, companyId);
      touch();
    },
    listCustomers: () => state.customers.filter((c) => c.companyId === companyId),
    createCustomer(input) {
      checkCustomer(input);
      const existing = state.customers.filter((c) => c.companyId === companyId);
      const number = input.number ?? `C${(existing.length + 1) * 10000 + 90000}`;
      if (findCustomer(state, companyId, number)) throw dialog(`The Customer already exists. Identification fields and values: No.='${number}'`);
      const at = nowIso();
      const c: CustomerRec = {
        id: randomUUID(),
        companyId,
        number,
        displayName: input.displayName,
        type: input.type ?? 'Company',
        addressLine1: input.addressLine1 ?? '',
        addressLine2: '',
        city: input.city ?? '',
        state: input.state ?? '',
        country: input.country ?? 'US',
        postalCode: input.postalCode ?? '',
        phoneNumber: input.phoneNumber ?? '',
        email: input.email ?? '',
        website: '',
        taxLiable: true,
        currencyCode: input.currencyCode === lcy() ? '' : input.currencyCode ?? '',
        paymentMethodCode: input.paymentMethodCode ?? '',
        postingGroup: input.postingGroup ?? 'DOMESTIC',
        blocked: input.blocked ?? '',
        createdAt: at,
        lastModifiedDateTime: at,
      };
      state.customers.push(c);
      customerChanged(c, 'created');
      return c;
    },
    updateCustomer(number, patch) {
      checkCustomer(patch);
      const c = customerOrThrow(number);
      const { number: _n, currencyCode, ...rest } = patch;
      Object.assign(c, Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)));
      if (currencyCode !== undefined) c.currencyCode = currencyCode === lcy() ? '' : currencyCode;
      customerChanged(c, 'updated');
      return c;
    },
    addCustomerAttachment(number, file) {
      const c = customerOrThrow(number);
      const at = nowIso();
      const a: AttachmentRec = {
        id: randomUUID(),
        companyId,
        parentType: 'Customer',
        parentId: c.id,
        fileName: file.fileName,
        contentBase64: Buffer.isBuffer(file.content) ? file.content.toString('base64') : Buffer.from(file.content, 'utf8').toString('base64'),
        createdAt: at,
        lastModifiedDateTime: at,
      };
      state.attachments.push(a);
      touch();
      return a;
    },
    postInvoice(input) {
      const inv = postInvoiceIn(ctx, input);
      touch();
      return invoiceView(inv);
    },
    postInvoices(inputs) {
      const invs = transaction(ctx, (tx) => inputs.map((input) => postInvoiceIn(tx, input)));
      touch();
      return invs.map(invoiceView);
    },
    postDraftInvoice(number) {
      const inv = postDraftInvoice(ctx, invoiceOrThrow(number));
      touch();
      return invoiceView(inv);
    },
    releaseDraftInvoice(number) {
      const inv = releaseDraftInvoice(ctx, invoiceOrThrow(number));
      touch();
      return invoiceView(inv);
    },
    getInvoice: (number) => invoiceView(invoiceOrThrow(number)),
    listInvoices: () => state.salesInvoices.filter((i) => i.companyId === companyId).map(invoiceView),
    recordPayment(input) {
      const inv = invoiceOrThrow(input.invoiceNumber);
      const customer = customerOrThrow(inv.billToCustomerNumber);
      const amount = money(input.amount, inv.currencyCode);
      if (amount <= 0) throw dialog('The payment amount must be positive.');
      const methodCode = input.paymentMethodCode ?? customer.paymentMethodCode;
      const method = state.paymentMethods.find((m) => m.companyId === companyId && m.code === methodCode);
      const entry = transaction(ctx, (tx) =>
        postCustomerLine(tx, {
          companyId,
          customerNumber: customer.number,
          documentType: 'Payment',
          documentNumber: `PMT${String(++state.counters.paymentNo).padStart(5, '0')}`,
          externalDocumentNumber: input.externalDocumentNumber ?? '',
          description: `Payment ${inv.number}`,
          postingDate: input.postingDate ?? today(),
          amountMinor: -amount,
          balAccountType: 'G/L Account',
          balAccountNumber: method?.balAccountNumber || '10100',
          appliesToInvoiceNumber: inv.number,
        }),
      );
      touch();
      return entryView(entry);
    },
    unapplyPayment(ref) {
      const entry = state.ledgerEntries.find(
        (e) => e.companyId === companyId && (ref.entryNumber !== undefined ? e.entryNumber === ref.entryNumber : e.documentNumber === ref.documentNumber && e.amountMinor < 0),
      );
      if (!entry) throw new BcError(404, 'BadRequest_NotFound', `No payment ledger entry matches ${JSON.stringify(ref)}.`);
      unapplyEntry(ctx, companyId, entry.entryNumber);
      touch();
      return state.ledgerEntries.filter((e) => e.entryNumber === entry.entryNumber).map(entryView);
    },
    cancelInvoice(number) {
      const inv = cancelInvoice(ctx, invoiceOrThrow(number));
      touch();
      return invoiceView(inv);
    },
    creditInvoice(number, amount) {
      const inv = invoiceOrThrow(number);
      const memo = creditInvoice(ctx, inv, amount === undefined ? undefined : money(amount, inv.currencyCode));
      touch();
      return entryView(memo);
    },
    listLedgerEntries(filter = {}) {
      return state.ledgerEntries
        .filter((e) => e.companyId === companyId)
        .filter((e) => !filter.customerNumber || e.customerNumber === filter.customerNumber)
        .filter((e) => !filter.documentNumber || e.documentNumber === filter.documentNumber)
        .map(entryView);
    },
    listApplications: () =>
      applicationsOf(state, companyId).map((a) => ({
        entryNumber: a.entryNumber,
        invoiceEntryNumber: a.invoiceEntryNumber,
        creditEntryNumber: a.creditEntryNumber,
        amount: formatDecimal(a.amountMinor, lcy()),
        unapplied: a.unapplied,
      })),
    flushNotifications: () => webhooks.flush(),
    notificationDeliveries: () => [...webhooks.deliveries],
    revokeTokens: () => auth.revokeAll(),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP routes for the admin object

const decimal = z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/, 'expected a decimal number')]);
const customerInput = z
  .object({
    number: z.string().min(1).max(20).optional(),
    displayName: z.string().min(1).max(100),
    email: z.string().max(80).optional(),
    phoneNumber: z.string().max(30).optional(),
    type: z.enum(['Company', 'Person']).optional(),
    addressLine1: z.string().optional(),
    city: z.string().optional(),
    state: z.string().optional(),
    country: z.string().optional(),
    postalCode: z.string().optional(),
    postingGroup: z.string().max(20).optional(),
    paymentMethodCode: z.string().max(10).optional(),
    currencyCode: z.string().length(3).optional(),
    blocked: z.enum(['', 'Ship', 'Invoice', 'All']).optional(),
  })
  .strict();
const invoiceInput = z
  .object({
    customerNumber: z.string().min(1),
    lines: z
      .array(
        z
          .object({
            description: z.string().min(1).max(100),
            quantity: decimal,
            unitPrice: decimal,
            taxPercent: decimal.optional(),
            discountPercent: decimal.optional(),
            lineType: z.enum(['Item', 'Account', 'Resource', 'Comment']).optional(),
            lineObjectNumber: z.string().optional(),
          })
          .strict(),
      )
      .min(1),
    postingDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
    dueDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
    externalDocumentNumber: z.string().max(35).optional(),
    customerPurchaseOrderReference: z.string().max(35).optional(),
    paidAtPosting: decimal.optional(),
    draft: z.boolean().optional(),
  })
  .strict();
const paymentInput = z
  .object({
    amount: decimal,
    postingDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
    externalDocumentNumber: z.string().max(35).optional(),
    paymentMethodCode: z.string().optional(),
  })
  .strict();

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  const i = r.error.issues[0];
  throw new BcError(400, 'BadRequest', `Invalid admin request: ${i.path.join('.') || '(body)'}: ${i.message}`);
}

export function registerAdminRoutes(app: FastifyInstance, admin: BcAdmin, faults: FaultInjector, adminToken: string): void {
  app.register(
    async (r) => {
      r.addHook('onRequest', async (req, reply) => {
        if (req.headers['x-admin-token'] !== adminToken) return sendBcError(reply, 401, 'Authentication_InvalidCredentials', 'Missing or wrong x-admin-token header.');
      });
      r.post('/seed', async () => (admin.seedDemo(), { ok: true }));
      r.get('/customers', async () => admin.listCustomers());
      r.post('/customers', async (req, reply) => reply.code(201).send(admin.createCustomer(parse(customerInput, req.body))));
      r.patch<{ Params: { number: string } }>('/customers/:number', async (req) => admin.updateCustomer(req.params.number, parse(customerInput.partial(), req.body)));
      r.post<{ Params: { number: string } }>('/customers/:number/attachments', async (req, reply) => {
        const b = parse(z.object({ fileName: z.string().min(1), contentBase64: z.string() }).strict(), req.body);
        return reply.code(201).send(admin.addCustomerAttachment(req.params.number, { fileName: b.fileName, content: Buffer.from(b.contentBase64, 'base64') }));
      });
      r.get('/invoices', async () => admin.listInvoices());
      r.post('/invoices', async (req, reply) => reply.code(201).send(admin.postInvoice(parse(invoiceInput, req.body))));
      r.get<{ Params: { number: string } }>('/invoices/:number', async (req) => admin.getInvoice(req.params.number));
      r.post<{ Params: { number: string } }>('/invoices/:number/post', async (req) => admin.postDraftInvoice(req.params.number));
      r.post<{ Params: { number: string } }>('/invoices/:number/release', async (req) => admin.releaseDraftInvoice(req.params.number));
      r.post<{ Params: { number: string } }>('/invoices/:number/payments', async (req, reply) =>
        reply.code(201).send(admin.recordPayment({ invoiceNumber: req.params.number, ...parse(paymentInput, req.body) })),
      );
      r.post<{ Params: { number: string } }>('/invoices/:number/cancel', async (req) => admin.cancelInvoice(req.params.number));
      r.post<{ Params: { number: string } }>('/invoices/:number/credit', async (req) =>
        admin.creditInvoice(req.params.number, parse(z.object({ amount: decimal.optional() }).strict(), req.body).amount),
      );
      r.post('/unapply', async (req) =>
        admin.unapplyPayment(parse(z.object({ entryNumber: z.number().int().optional(), documentNumber: z.string().optional() }).strict(), req.body)),
      );
      r.get<{ Querystring: { customerNumber?: string; documentNumber?: string } }>('/ledger-entries', async (req) => admin.listLedgerEntries(req.query));
      r.get('/applications', async () => admin.listApplications());
      r.post('/notifications/flush', async () => (await admin.flushNotifications(), { ok: true }));
      r.get('/notifications', async () => ({ value: admin.notificationDeliveries() }));
      r.post('/tokens/revoke', async () => (admin.revokeTokens(), { ok: true }));
      r.get('/faults', async () => faults.settings);
      r.post('/faults', async (req) => faults.configure(parse(faultPatchSchema, req.body)));
    },
    { prefix: '/admin' },
  );
}

import type { BcSalesInvoice } from '../src/adapters/businessCentral';
import { LINE_TYPE, type InInvoice, type InLineInput, type InLineItem, type InPayment } from '../src/adapters/invoiceNinja';
import { formatDecimal, type Money } from '../src/domain/money';
import { adjustRoundingLine, planPortalInvoice, type PortalLineItem } from '../src/domain/taxRounding';
import type { PortalClientAnswer } from '../workflows/customer';
import type { PortalLink } from '../workflows/invoiceTypes';
import type { ActivityDeps } from './deps';
import { creditedInErp, erpPostingStates, erpStatus, type ErpInvoiceStatus } from './erp';
import { isErpOrigin } from './intake';
import { classified, permanent } from './failures';
import { CUSTOM_VALUE_FIELDS } from '../src/config/settings';

/** The portal's line item (as the rounding rule computes it) in the client's input shape. */
function toLineInput(item: PortalLineItem): InLineInput {
  const taxes = [
    { name: item.tax_name1, rate: item.tax_rate1 },
    { name: item.tax_name2, rate: item.tax_rate2 },
    { name: item.tax_name3, rate: item.tax_rate3 },
  ].filter((t) => t.name !== '' || t.rate !== 0);
  return { productKey: item.product_key, notes: item.notes, quantity: item.quantity, unitPrice: String(item.cost), discountPercent: item.discount, taxes };
}

/** The ERP invoice as the rounding rule reads it (Business Central's net amount is the taxed base). */
function forPortal(inv: BcSalesInvoice) {
  const lines = (inv.lines ?? []).filter((l) => l.lineType !== 'Comment' && !(l.quantity === 0 && l.netAmountIncludingTax.minor === 0));
  return {
    number: inv.number,
    currency: inv.currencyCode,
    lines: lines.map((l) => ({
      description: l.description,
      itemNumber: l.lineObjectNumber || null,
      quantity: l.quantity,
      unitPrice: l.unitPrice,
      lineDiscountMinor: l.discount.minor,
      discountPercent: l.discountPercent || null,
      taxPercent: l.taxPercent,
      taxCode: l.taxCode || null,
      // The posted amounts (after any invoice discount, the document's tax distributed): the lines add up to the header.
      amountExcludingTaxMinor: l.netAmount.minor,
      taxMinor: l.netTax.minor,
    })),
    totalExcludingTaxMinor: inv.totalExcludingTax.minor,
    totalTaxMinor: inv.totalTax.minor,
    totalIncludingTaxMinor: inv.totalIncludingTax.minor,
    remainingMinor: inv.remaining.minor,
  };
}

function fieldText(value: unknown): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (typeof value === 'object' && value && 'minor' in value && 'currency' in value) {
    const m = value as Money;
    return formatDecimal(m.minor, m.currency);
  }
  return String(value);
}

/** A live customer payment with money on this invoice (payments we recorded from the ERP are not the customer's). */
function isCustomerPaymentOn(p: InPayment, invoiceId: string): boolean {
  if (p.isDeleted || p.status === 'cancelled' || p.status === 'failed' || isErpOrigin(p)) return false;
  return p.invoices.some((i) => i.invoiceId === invoiceId && i.amount.minor - i.refunded.minor > 0);
}

/** A portal invoice the customer can still pay on: not cancelled, reversed or deleted. */
export function usableInPortal(inv: InInvoice): boolean {
  return !inv.isDeleted && inv.status !== 'cancelled' && inv.status !== 'reversed';
}

/**
 * Whether `inv` is a create of this plan left uncorrected: this client's live invoice holding exactly `items`. A customer
 * may have paid on it meanwhile (the portal shows an invoice before its link goes out): the corrected total then
 * decides the balance, as in the ERP, unless that total is below what was paid. A card payment's fee line makes the
 * lines differ, and such an invoice is left as it is (a PUT of lines would drop the fee line).
 */
function isUncorrectedCreate(inv: InInvoice, clientId: string, items: readonly PortalLineItem[], correctTotalMinor: number): boolean {
  if (inv.clientId !== clientId || !usableInPortal(inv)) return false;
  if (inv.paidToDate.minor > correctTotalMinor) return false;
  return inv.lines.length === items.length && items.every((item, i) => sameLine(inv.lines[i]!, toLineInput(item)));
}

function sameLine(held: InLineItem, sent: InLineInput): boolean {
  const taxes = sent.taxes ?? [];
  return (
    held.productKey === sent.productKey &&
    held.notes === sent.notes &&
    Number(held.quantity) === Number(sent.quantity) &&
    Number(held.unitCost) === Number(sent.unitPrice) &&
    Number(held.discount) === Number(sent.discountPercent ?? 0) &&
    held.taxes.length === taxes.length &&
    held.taxes.every((t, j) => t.name === taxes[j]!.name && Number(t.rate) === Number(taxes[j]!.rate))
  );
}

/**
 * A portal invoice that was cancelled, reversed or deleted is no invoice the customer can pay: its balance of zero would
 * read as paid. Refused for good, so the invoice waits for a person (portal_rejected) with the portal's state.
 */
function refuseUnusable(inv: InInvoice): void {
  const state = inv.isDeleted ? 'deleted' : inv.status === 'cancelled' || inv.status === 'reversed' ? inv.status : null;
  if (state) {
    throw permanent('invoice-ninja:invoice_unusable', `portal invoice ${inv.number} is ${state} in the portal: it is not synced; restore it there or cancel this invoice`);
  }
}

export function portalLinkOf(connectionKey: string, inv: InInvoice): PortalLink {
  const invitation = inv.invitations[0];
  if (!invitation) throw permanent('invoice-ninja:no_invitation', `portal invoice ${inv.number} has no invitation (no client contact?)`);
  return { connectionKey, clientId: inv.clientId, invoiceId: inv.id, invitationKey: invitation.key, link: invitation.link };
}

/** The gateway fee lines the portal adds to an invoice when its customer pays online (paid or not yet). */
export function gatewayFeeLinesMinor(inv: InInvoice): number {
  return inv.lines.filter((l) => l.typeId === LINE_TYPE.UNPAID_GATEWAY_FEE || l.typeId === LINE_TYPE.PAID_GATEWAY_FEE).reduce((sum, l) => sum + l.lineTotal.minor, 0);
}

/** What a sync left in the portal: the customer's link and both amounts the invoice workflow compares. */
export interface MirroredInvoice {
  portal: PortalLink;
  /** The portal invoice's total without gateway fee lines (a customer who paid online before a re-sync added one). */
  portalTotalMinor: number;
  portalBalanceMinor: number;
  paidAtPostingMinor: number;
  created: boolean;
  sendLinkOnSync: boolean;
}

/**
 * ERP invoice (read with its lines) → portal invoice: found by number or created (never two), lines and taxes with the
 * rounding line, custom values, auto-bill, "Disable Invoice Emails"; then the paid-at-posting payment when the ERP
 * invoice was partly paid when posted. Throws a permanent failure when the rounding rule cannot mirror it exactly.
 */
/** `autoBill`: the client's auto-bill when the customer's workflow said (it sets it on the portal client), else read. */
export async function mirrorInvoice(deps: ActivityDeps, erp: BcSalesInvoice, connectionKey: string, clientId: string, autoBill?: boolean): Promise<MirroredInvoice> {
  const { settings, portals } = deps;
  const portal = portals.client(connectionKey);
  const plan = planPortalInvoice(forPortal(erp));
  if (plan.problems.length) throw permanent('arsync:rounding', `invoice ${erp.number} cannot be mirrored exactly: ${plan.problems.join('; ')}`);
  // Sent with the lines on every write: the plan's arithmetic holds only with these (percent line discounts, exclusive
  // taxes, nothing at invoice level), and Invoice Ninja's own defaults differ.
  const f = plan.invoiceFields;
  const invoiceLevel = { isAmountDiscount: f.is_amount_discount, usesInclusiveTaxes: f.uses_inclusive_taxes, discount: f.discount, taxes: [] };

  // A new ERP invoice is the common case: create it at once (one request), and look the number up only when the portal
  // has it already (a re-sync, a later attempt of this activity, an invoice made by hand), as a lookup first would have.
  // Only what recurring sales made is charged without the customer's click, when a rule says which those are.
  const rule = settings.recurringInvoices;
  const recurring = !rule || new RegExp(rule.pattern).test(fieldText(erp[CUSTOM_VALUE_FIELDS[rule.erpField]]) ?? '');
  const autoBillEnabled = recurring && (autoBill ?? (await portal.getClient(clientId)).settings.auto_bill === 'always');
  const res = await portal.createNewInvoice(
    {
      clientId: clientId,
      currency: erp.currencyCode,
      number: erp.number,
      date: erp.invoiceDate,
      dueDate: erp.dueDate,
      poNumber: erp.customerPurchaseOrderReference || undefined,
      customValues: settings.customValues.map((m) => (m ? fieldText(erp[CUSTOM_VALUE_FIELDS[m.erpField]]) : undefined)) as [string?, string?, string?, string?],
      autoBillEnabled,
      invoiceLevel,
      lines: plan.lineItems.map(toLineInput),
    },
    // Emailed (when the portal is to email invoices) only once its amount and balance are final: after the correction and
    // the paid-at-posting payment, if any.
    { markSent: true },
  );
  const created = 'created' in res;
  let emailDue = !settings.disableInvoiceEmails;
  // The portal is the judge of its own arithmetic: if it came out differently, correct the rounding line once.
  const corrected = async (made: InInvoice) => {
    // The portal invoices in its client's currency: an ERP invoice in another one (a currency of its own, a customer's
    // currency changed since its client was made) would be read as the client's money. Refused for good.
    if (made.currency !== erp.currencyCode) {
      throw permanent('arsync:currency', `invoice ${erp.number} is in ${erp.currencyCode} but its portal client invoices in ${made.currency}`);
    }
    if (made.amount.minor === plan.portalAmountMinor) return made;
    const fix = adjustRoundingLine(plan, made.amount.minor, erp.totalIncludingTax.minor);
    // Not rounding: refused for good (the invoice waits for a person), never hidden behind a large Rounding line.
    if (fix.problem) throw permanent('arsync:rounding', `invoice ${erp.number}: ${fix.problem}`);
    return portal.updateInvoice(made.id, { currency: erp.currencyCode, invoiceLevel, lines: fix.lineItems.map(toLineInput) });
  };
  let inv: InInvoice;
  if ('created' in res) {
    inv = await corrected(res.created);
  } else {
    const found = await portal.findInvoiceByNumber(erp.number);
    // Taken by an invoice the portal does not list: refused, as the create was.
    if (!found) throw res.taken;
    refuseUnusable(found);
    // An earlier attempt's create whose correction never landed (a failed request, a lost worker): finish it. Anything
    // else found (corrected, edited, made by hand, paid by card) is left as it is; the invoice workflow compares totals.
    const uncorrected = isUncorrectedCreate(found, clientId, plan.lineItems, erp.totalIncludingTax.minor);
    // An invoice found otherwise was emailed by the attempt that finished it (or is not ours to email).
    if (!uncorrected) emailDue = false;
    inv = uncorrected ? await corrected(found) : found;
  }
  // Paid at posting: only for the invoice this call created. On one found, the ERP's paid amount may hold payments made
  // since (from the portal, or in the ERP and not yet mirrored): those reach the portal through the ERP watcher and
  // the drift sweep, each by its own key, and taking them here as well would count them twice.
  if (created && plan.paidAtPosting && inv.balance.minor > plan.expectedPortalBalanceMinor) {
    await portal.createPayment({
      clientId: inv.clientId,
      amountMinor: plan.paidAtPosting.amountMinor,
      currency: erp.currencyCode,
      invoices: [{ invoiceId: inv.id, amountMinor: plan.paidAtPosting.amountMinor }],
      idempotencyKey: plan.paidAtPosting.idempotencyKey,
      date: erp.postingDate || erp.invoiceDate,
      transactionReference: plan.paidAtPosting.idempotencyKey,
    });
    inv = await portal.getInvoice(inv.id);
  }
  if (emailDue) inv = await portal.updateInvoice(inv.id, { currency: erp.currencyCode }, { sendEmail: true });
  return {
    portal: portalLinkOf(connectionKey, inv),
    portalTotalMinor: inv.amount.minor - gatewayFeeLinesMinor(inv),
    portalBalanceMinor: inv.balance.minor,
    paidAtPostingMinor: created ? (plan.paidAtPosting?.amountMinor ?? 0) : 0,
    created,
    sendLinkOnSync: settings.links.sendOnSync,
  };
}

export function createPortalActivities(deps: ActivityDeps) {
  const { settings, bc, portals } = deps;

  return {
    /**
     * "Sync Customer": finds the portal client by ERP customer number or creates it (never two), keeps its contact and
     * settings current and uploads the customer's attachments. Honours "Require Email Address".
     */
    async syncCustomerToPortal(input: { companyId: string; customerNumber: string; autoBill: boolean }): Promise<PortalClientAnswer> {
      return classified(async (): Promise<PortalClientAnswer> => {
        const customer = await bc.getCustomerByNumber(input.customerNumber, { details: true });
        if (!customer) return { status: 'unknown_customer', detail: `customer ${input.customerNumber} does not exist in the ERP` };
        if (settings.requireEmailAddress && !customer.email) {
          return { status: 'missing_email', detail: `customer ${input.customerNumber} has no email address and "Require Email Address" is on` };
        }
        const connectionKey = portals.keyFor(customer.postingGroup);
        const portal = portals.client(connectionKey);
        const currency = customer.currencyCode || (await bc.localCurrency());
        const [firstName, ...rest] = customer.displayName.split(' ');
        const data = {
          name: customer.displayName,
          currency,
          phone: customer.phoneNumber || undefined,
          website: customer.website || undefined,
          address1: customer.address.line1 || undefined,
          address2: customer.address.line2 || undefined,
          city: customer.address.city || undefined,
          state: customer.address.state || undefined,
          postalCode: customer.address.postalCode || undefined,
          contacts: [{ firstName, lastName: rest.join(' '), email: customer.email || undefined, phone: customer.phoneNumber || undefined, isPrimary: true, sendEmail: true }],
          settings: { auto_bill: input.autoBill ? 'always' : 'off' },
        };
        let client = await portal.findOrCreateClient(customer.number, data);
        client = await portal.updateClient(client.id, data);
        const uploaded = new Set(client.documents.map((d) => d.name));
        for (const a of customer.attachments ?? (await bc.listCustomerAttachments(customer.id))) {
          if (uploaded.has(a.fileName)) continue;
          const content = await bc.downloadAttachment(customer.id, a.id);
          const staffOnly = settings.attachments.privateNames.some((p) => new RegExp(p).test(a.fileName));
          await portal.uploadClientDocument(client.id, { filename: a.fileName, content, isPublic: !staffOnly });
        }
        return { status: 'ready', connectionKey, clientId: client.id };
      });
    },

    /** ERP invoice → portal invoice (`mirrorInvoice`), for invoice runs of revision 1 and 2 (later ones use syncInvoice). */
    async syncInvoiceToPortal(input: { companyId: string; invoiceNumber: string; connectionKey: string; clientId: string }): Promise<MirroredInvoice> {
      return classified(async () => {
        const erp = await bc.getSalesInvoiceByNumber(input.invoiceNumber, { lines: true });
        if (!erp) throw permanent('business-central:unknown_invoice', `invoice ${input.invoiceNumber} does not exist in the ERP`);
        return mirrorInvoice(deps, erp, input.connectionKey, input.clientId);
      });
    },

    async cancelPortalInvoice(input: { portal: PortalLink; invoiceNumber: string }): Promise<void> {
      return classified(async () => {
        const portal = portals.client(input.portal.connectionKey);
        const inv = await portal.getInvoice(input.portal.invoiceId);
        if (inv.status !== 'cancelled' && !inv.isDeleted) await portal.bulkInvoices('cancel', [inv.id]);
      });
    },

    /**
     * Both sides' balances of one invoice. An invoice the ERP closed with a credit memo counts as cancelled
     * (`erpCredited`): it is cancelled in the portal rather than shown as paid. `portalPaymentIds` are the customers'
     * payments on the portal invoice (live, not recorded from the ERP), so the workflow knows which are still to be posted.
     */
    async readInvoiceBalances(input: {
      companyId: string;
      invoiceNumber: string;
      portal: PortalLink | null;
      /** Also which of the portal's payments the ERP has a posting of (a reopened run did not hear of them all). */
      postings?: boolean;
    }): Promise<{
      erpRemainingMinor: number | null;
      erpStatus: ErpInvoiceStatus;
      erpCredited: boolean;
      portalBalanceMinor: number | null;
      portalPaymentIds: string[] | null;
      /** The newest invitation viewed_date: a safety net for a view the portal watcher missed. */
      portalViewedAt: string | null;
      /** With `postings`: the portal payments listed that are posted in the ERP (by their external document numbers). */
      erpPostedPaymentIds?: string[];
    }> {
      return classified(async () => {
        const erp = await bc.getSalesInvoiceByNumber(input.invoiceNumber, { lines: false });
        // The invoice's payments first (with the invoice: one request, however long the client's history), the balance
        // after: every payment listed is in the balance read (the invoice workflow relies on it).
        const portalSide = async (link: PortalLink) => {
          const portal = portals.client(link.connectionKey);
          const { payments } = await portal.getInvoiceWithPayments(link.invoiceId);
          return { payments, inv: await portal.getInvoice(link.invoiceId) };
        };
        const side = input.portal ? await portalSide(input.portal) : null;
        const credited = erp ? await creditedInErp(deps, erp) : false;
        const portalPaymentIds = side ? side.payments.filter((p) => isCustomerPaymentOn(p, side.inv.id)).map((p) => p.id) : null;
        const postings = input.postings ? await erpPostingStates(deps, portalPaymentIds ?? []) : null;
        return {
          erpRemainingMinor: erp ? erp.remaining.minor : null,
          erpStatus: credited ? 'cancelled' : erpStatus(erp),
          erpCredited: credited,
          portalBalanceMinor: side ? side.inv.balance.minor : null,
          portalPaymentIds,
          portalViewedAt: side?.inv.invitations.map((i) => i.viewedDate).filter((d): d is string => !!d).sort().pop() ?? null,
          ...(postings ? { erpPostedPaymentIds: [...postings].filter(([, s]) => s.posted).map(([id]) => id) } : {}),
        };
      });
    },
  };
}

import type { BcSalesInvoice } from '../src/adapters/businessCentral';
import { ExternalServiceError } from '../src/adapters/http/errors';
import { formatMoney } from '../src/domain/money';
import { renderTemplate, type TemplateValues } from '../src/domain/templates';
import type { PortalLink } from '../workflows/invoiceTypes';
import type { PaymentPostedNotice } from './journalTypes';
import type { ActivityDeps } from './deps';
import { classified, permanent } from './failures';

type Channel = 'email' | 'sms';

/** Phone numbers as the SMS provider wants them (E.164); null when the ERP number cannot be read as one. */
export function toE164(phone: string | null | undefined): string | null {
  if (!phone) return null;
  const compact = phone.replace(/[\s().-]/g, '');
  if (/^\+[1-9]\d{6,14}$/.test(compact)) return compact;
  if (/^00[1-9]\d{6,14}$/.test(compact)) return `+${compact.slice(2)}`;
  return null;
}

export interface LinkRequest {
  companyId: string;
  invoiceNumber: string;
  customerNumber: string;
  portal: PortalLink;
  channels?: Channel[];
  sequence: number;
}

export interface LinkResult {
  sent: Channel[];
  skipped: Array<{ channel: Channel; reason: string }>;
  /**
   * Channels that failed for a passing reason while another went out: the caller sends them again alone, with the
   * same sequence (absent in results recorded before it existed).
   */
  retry?: Array<{ channel: Channel; reason: string }>;
}

/**
 * Sends the view-and-pay link by email and/or SMS from the configured templates (`known`: the ERP invoice when the
 * caller has just read it, with its customer when that was expanded into the read). The idempotency key includes the
 * send sequence, so a retried activity never sends twice while a deliberate resend does send again.
 */
export async function sendLink(deps: ActivityDeps, input: LinkRequest, known?: BcSalesInvoice): Promise<LinkResult> {
  // The expanded customer is the sell-to one: it stands in for the card only when the link goes to that customer.
  const knownCustomer = known?.customer?.number === input.customerNumber ? known.customer : undefined;
  const [customer, invoice] = await Promise.all([
    knownCustomer ?? deps.bc.getCustomerByNumber(input.customerNumber, { details: false }),
    known ?? deps.bc.getSalesInvoiceByNumber(input.invoiceNumber, { lines: false }),
  ]);
  // No amount to tell the customer: nothing is sent (a permanent failure the caller reports).
  if (!invoice) throw permanent('arsync:unknown_invoice', `invoice ${input.invoiceNumber} does not exist in the ERP: no link sent`);
  const values: TemplateValues = {
    customerName: customer?.displayName ?? input.customerNumber,
    invoiceNumber: input.invoiceNumber,
    amountDue: invoice.remaining,
    dueDate: invoice.dueDate || null,
    payLink: input.portal.link,
    companyName: deps.settings.companyName,
  };
  const t = deps.settings.links.template;
  const wanted = input.channels ?? deps.settings.links.channels;
  const sent: Channel[] = [];
  const skipped: Array<{ channel: Channel; reason: string }> = [];
  const key = (c: Channel) => `link:${input.companyId}:${input.invoiceNumber}:${input.sequence}:${c}`;
  const retry: Array<{ channel: Channel; reason: string }> = [];
  let passing: unknown;
  // A channel refused for good (an unknown mailbox, an unsubscribed number) is skipped in the provider's words and
  // the other one still goes. A passing failure is thrown only when nothing went out (a retry repeats nothing);
  // after another channel went out it is returned in `retry`, so that retrying does not send that one twice.
  const via = async (channel: Channel, send: () => Promise<unknown>) => {
    try {
      await send();
      sent.push(channel);
    } catch (err) {
      if (err instanceof ExternalServiceError && !err.retryable) skipped.push({ channel, reason: err.message });
      else {
        retry.push({ channel, reason: err instanceof Error ? err.message : String(err) });
        passing ??= err;
      }
    }
  };
  if (wanted.includes('email')) {
    const to = customer?.email || invoice.email;
    if (!to) skipped.push({ channel: 'email', reason: 'the customer has no email address' });
    else
      await via('email', () =>
        deps.email.send({
          to,
          subject: renderTemplate(t.emailSubject, values),
          text: renderTemplate(t.emailText, values),
          html: `<p>${renderTemplate(t.emailText, values, 'html').replace(/\n/g, '<br>')}</p>`,
          idempotencyKey: key('email'),
        }),
      );
  }
  if (wanted.includes('sms')) {
    const to = toE164(customer?.phoneNumber || invoice.phoneNumber);
    if (!to) skipped.push({ channel: 'sms', reason: 'the customer has no phone number in international format' });
    else await via('sms', () => deps.sms.send({ to, body: renderTemplate(t.smsText, values), idempotencyKey: key('sms') }));
  }
  if (passing !== undefined && sent.length === 0) throw passing;
  return retry.length ? { sent, skipped, retry } : { sent, skipped };
}

/** One email to the staff address; the key makes a repeat harmless. */
async function emailStaff(deps: ActivityDeps, subject: string, text: string, idempotencyKey: string): Promise<void> {
  await deps.email.send({ to: deps.settings.links.staffEmail, subject, text, idempotencyKey });
}

/** Staff are told of each payment received and posted. */
export async function tellStaffPaymentPosted(deps: ActivityDeps, n: PaymentPostedNotice): Promise<void> {
  const amount = formatMoney({ minor: n.amountMinor, currency: n.currency });
  await emailStaff(deps, `Payment ${n.paymentId} received and posted`, `Portal payment ${n.paymentId} (${amount}) was posted in the ERP.`, `payment-posted:${n.connectionKey}:${n.paymentId}`);
}

export interface ViewNotice {
  companyId?: string;
  invoiceNumber: string;
  customerNumber: string | null;
  viewedAt: string;
}

/** Staff are told of an invoice's first view. */
export async function tellStaffOfView(deps: ActivityDeps, input: ViewNotice): Promise<void> {
  await emailStaff(
    deps,
    `Invoice ${input.invoiceNumber} was viewed`,
    `Customer ${input.customerNumber ?? ''} opened invoice ${input.invoiceNumber} in the portal at ${input.viewedAt}.`,
    input.companyId ? `viewed:${input.companyId}:${input.invoiceNumber}` : `viewed:${input.invoiceNumber}`,
  );
}

export function createNotificationActivities(deps: ActivityDeps) {
  return {
    /** The view-and-pay link by email and/or SMS (`sendLink`). */
    async sendInvoiceLink(input: LinkRequest): Promise<LinkResult> {
      return classified(() => sendLink(deps, input));
    },

    /** First view of an invoice: one staff notification (the key makes a retry harmless). */
    async notifyStaffOfView(input: ViewNotice): Promise<void> {
      return classified(() => tellStaffOfView(deps, input));
    },

    /** Staff are told of each payment received and each one that needs attention. */
    async notifyStaffOfPayment(
      input:
        | ({ kind: 'posted' } & PaymentPostedNotice)
        | { kind: 'needs_attention'; paymentId: string; connectionKey: string; reason: string; detail: string },
    ): Promise<void> {
      return classified(() => {
        return input.kind === 'posted'
          ? tellStaffPaymentPosted(deps, input)
          : emailStaff(
              deps,
              `Payment ${input.paymentId} needs attention: ${input.reason}`,
              `Portal payment ${input.paymentId} needs a decision (${input.reason}): ${input.detail ?? ''}\nResolve it with: arsync payment resolve ${input.connectionKey} ${input.paymentId} --action … --by … --why …`,
              `payment-attention:${input.connectionKey}:${input.paymentId}:${input.reason}`,
            );
      });
    },
  };
}

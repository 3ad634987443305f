import type { Command } from 'commander';
import { z } from 'zod';
import { actor, connectionKey, customerNumber, invoiceNumber, listLimit, paymentStage, portalPaymentId, reason, resolution } from '../operations/inputs';
import { listPayments, paymentState, resolve, retry, type StagedPaymentRow } from '../operations/payments';
import { amount, emit, parseArgs, record, table, type OutputOptions } from './io';
import { withOps } from './ops';

const NAMES = {
  connection: '<connection>',
  paymentId: '<paymentId>',
  action: '--action',
  invoiceNumber: '--invoice',
  invoice: '--invoice',
  partnerPaymentId: '--partner',
  by: '--by',
  why: '--why',
  stage: '--stage',
  customer: '--customer',
  limit: '--limit',
  ended: '--ended',
};
const ref = { connection: connectionKey, paymentId: portalPaymentId };

const PAYMENT_LIST_COLUMNS = [
  ['paymentId', 'PAYMENT'],
  ['customerNumber', 'CUSTOMER'],
  ['invoiceNumbers', 'INVOICES'],
  ['amount', 'AMOUNT'],
  ['stage', 'STAGE'],
  ['attentionReason', 'ATTENTION'],
  ['status', 'STATUS'],
  ['workflowId', 'WORKFLOW ID'],
] as const;

/** The Payment Staging list as a table, the amount with its currency. */
export const paymentListTable = (rows: readonly StagedPaymentRow[]): string =>
  table(
    rows.map((r) => ({ ...r, amount: r.amountMinor === null ? null : amount(r.amountMinor, r.currency) })),
    PAYMENT_LIST_COLUMNS,
  );

export function registerPaymentCommands(program: Command): void {
  const payment = program.command('payment').description('portal payments: the staging list, state, finance resolution, retry');

  payment
    .command('list')
    .description('the Payment Staging list: portal payments by stage, customer, invoice or attention')
    .option('--stage <stage>', 'only this stage')
    .option('--customer <number>', 'only this customer')
    .option('--invoice <number>', 'only payments of this invoice (alone or with others)')
    .option('--attention', 'only payments waiting for finance')
    .option('--ended', 'only payments whose run ended with a reason, not re-posted since (payment resolve re-posts one)')
    .option('--limit <n>', 'at most this many rows (default 200)')
    .option('--json', 'print JSON')
    .action((opts: OutputOptions & { stage?: string; customer?: string; invoice?: string; attention?: boolean; ended?: boolean; limit?: string }) => {
      const schema = z.object({
        stage: paymentStage.optional(),
        customer: customerNumber.optional(),
        invoice: invoiceNumber.optional(),
        attention: z.boolean().optional(),
        ended: z.boolean().optional(),
        limit: listLimit.optional(),
      });
      const f = parseArgs(schema, { stage: opts.stage, customer: opts.customer, invoice: opts.invoice, attention: opts.attention, ended: opts.ended, limit: opts.limit }, NAMES);
      return withOps(async (ctx) => {
        const rows = await listPayments(ctx, { stage: f.stage, customerNumber: f.customer, invoiceNumber: f.invoice, attention: f.attention, ended: f.ended, limit: f.limit });
        emit(rows, opts, () => paymentListTable(rows));
      });
    });

  payment
    .command('show')
    .description("a portal payment's stage, amounts, invoices, plan and decisions")
    .argument('<connection>', '"default" or the posting group of a customer-specific connection')
    .argument('<paymentId>', 'the portal payment id')
    .option('--json', 'print JSON')
    .action((connection: string, paymentId: string, opts: OutputOptions) => {
      const p = parseArgs(z.object(ref).strict(), { connection, paymentId }, NAMES);
      return withOps(async (ctx) => {
        const s = await paymentState(ctx, p.connection, p.paymentId);
        const c = s.context;
        emit(s, opts, () =>
          [
            record([
              ['payment', `${s.connectionKey}/${s.paymentId}`],
              ['stage', s.stage],
              ['attention', s.attention ? `${s.attention.reason}: ${s.attention.detail}` : null],
              ['amount', c ? amount(c.amountMinor, c.currency) : null],
              ['refunded', c ? amount(c.refundedMinor, c.currency) : null],
              ['portal status', c?.portalStatus],
              ['customer', c?.customerNumber],
              ['invoices', c?.invoiceNumbers],
              ['date', c?.date],
              ['adjustment partner', s.adjustmentPartner],
            ]),
            '',
            'plan:',
            s.plan
              ? table(s.plan.parts.map((part) => ({ ...part, amount: amount(part.amountMinor, s.plan?.currency) })), [['kind', 'KIND'], ['invoiceNumber', 'INVOICE'], ['amount', 'AMOUNT']])
              : c?.erp.posted
                ? // A later run (a retry, a void) finds the posting an earlier run made: what the ERP holds under the payment's id.
                  [
                    `(planned by an earlier run; the ERP has ${amount(c.erp.postedMinor, c.currency)} received under ${s.paymentId}${c.erp.reversedMinor ? `, ${amount(c.erp.reversedMinor, c.currency)} reversed` : ''})`,
                    // The ledger names a line's invoice only where the read could tell it.
                    ...(c.erp.lines.some((l) => l.invoiceNumber)
                      ? [table(c.erp.lines.map((l) => ({ invoiceNumber: l.invoiceNumber ?? '-', amount: amount(l.amountMinor, c.currency) })), [['invoiceNumber', 'INVOICE'], ['amount', 'AMOUNT']])]
                      : []),
                  ].join('\n')
                : '(none yet)',
            '',
            'decisions:',
            table(s.decisions, [['at', 'AT'], ['by', 'BY'], ['action', 'ACTION'], ['why', 'WHY'], ['detail', 'DETAIL']]),
          ].join('\n'),
        );
      });
    });

  payment
    .command('resolve')
    .description('decide a payment that needs attention, or re-post one whose run ended with a reason (a new run carries the decision; recorded with who and why)')
    .argument('<connection>')
    .argument('<paymentId>')
    .option('--action <action>', 'apply_to_invoice | post_unapplied | treat_as_refund | treat_as_adjustment | skip | retry')
    .option('--invoice <number>', 'for apply_to_invoice: the ERP invoice to apply to')
    .option('--partner <paymentId>', 'for treat_as_adjustment: the partner portal payment')
    .option('--by <who>', 'who decides')
    .option('--why <reason>', 'why')
    .option('--json', 'print JSON')
    .action((connection: string, paymentId: string, opts: OutputOptions & { action?: string; invoice?: string; partner?: string; by?: string; why?: string }) => {
      const p = parseArgs(z.object(ref).strict(), { connection, paymentId }, NAMES);
      const decision = parseArgs(
        resolution,
        { action: opts.action, invoiceNumber: opts.invoice, partnerPaymentId: opts.partner, by: opts.by, why: opts.why },
        NAMES,
      );
      return withOps(async (ctx) => {
        const s = await resolve(ctx, p.connection, p.paymentId, decision);
        emit(s, opts, () =>
          s.repostOf
            ? `payment ${s.paymentId}: ${decision.action} recorded; re-posted by a new run (the run that ended ${s.repostOf.stage}: ${s.repostOf.reason}); stage ${s.stage}`
            : `payment ${s.paymentId}: ${decision.action} recorded; stage ${s.stage}`,
        );
      });
    });

  payment
    .command('retry')
    .description('observe a staged payment again: re-read both systems and post what is still missing (refused while it waits for a finance decision: resolve it)')
    .argument('<connection>')
    .argument('<paymentId>')
    .option('--by <who>', 'who asks')
    .option('--why <reason>', 'why')
    .option('--json', 'print JSON')
    .action((connection: string, paymentId: string, opts: OutputOptions & { by?: string; why?: string }) => {
      const input = parseArgs(z.object({ ...ref, by: actor, why: reason }).strict(), { connection, paymentId, by: opts.by, why: opts.why }, NAMES);
      return withOps(async (ctx) => {
        const r = await retry(ctx, input.connection, input.paymentId, { by: input.by, why: input.why });
        emit(r, opts, () => `retry requested: ${r.workflowId}`);
      });
    });
}

import type { Command } from 'commander';
import { z } from 'zod';
import {
  cancelInvoice,
  copyLink,
  invoiceState,
  invoiceTimeline,
  listInvoices,
  previewLink,
  resetInvoice,
  sendLink,
  startInvoices,
} from '../operations/invoices';
import { actor, bulk, channels, customerNumber, invoiceNumber, invoiceStage, listLimit, reason } from '../operations/inputs';
import { amount, collect, emit, parseArgs, record, table, type OutputOptions } from './io';
import { withOps } from './ops';

const NAMES = { number: '<number>', numbers: '<numbers...>', by: '--by', why: '--why', channels: '--channel', stage: '--stage', customer: '--customer', limit: '--limit' };
const one = z.object({ number: invoiceNumber }).strict();
const withBy = z.object({ number: invoiceNumber, by: actor }).strict();
const withWhy = z.object({ number: invoiceNumber, by: actor, why: reason }).strict();

export const INVOICE_LIST_COLUMNS = [
  ['invoiceNumber', 'INVOICE'],
  ['customerNumber', 'CUSTOMER'],
  ['stage', 'STAGE'],
  ['attentionReason', 'ATTENTION'],
  ['amountDueMinor', 'DUE (MINOR)'],
  ['status', 'STATUS'],
  ['startTime', 'STARTED'],
] as const;

export function registerInvoiceCommands(program: Command): void {
  const invoice = program.command('invoice').description('posted invoices: start, inspect, send links, reset, cancel');

  invoice
    .command('start')
    .description('start the workflow of one or many posted invoices (starting twice is harmless)')
    .argument('<numbers...>', 'ERP invoice numbers')
    .option('--json', 'print JSON')
    .action((numbers: string[], opts: OutputOptions) => {
      const input = parseArgs(z.object({ numbers: bulk(invoiceNumber) }).strict(), { numbers }, NAMES);
      return withOps(async (ctx) => {
        const results = await startInvoices(ctx, input.numbers);
        emit(results, opts, () => table(results, [['invoiceNumber', 'INVOICE'], ['outcome', 'OUTCOME'], ['workflowId', 'WORKFLOW ID']]));
      });
    });

  invoice
    .command('show')
    .description("an invoice's state")
    .argument('<number>')
    .option('--json', 'print JSON')
    .action((number: string, opts: OutputOptions) => {
      const input = parseArgs(one, { number }, NAMES);
      return withOps(async (ctx) => {
        const s = await invoiceState(ctx, input.number);
        emit(s, opts, () =>
          record([
            ['invoice', s.invoiceNumber],
            ['customer', s.customerNumber],
            ['stage', s.stage],
            ['attention', s.attention ? `${s.attention.reason}: ${s.attention.detail}` : null],
            ['total', amount(s.totalMinor, s.currency)],
            ['ERP remaining', amount(s.erpRemainingMinor, s.currency)],
            ['portal balance', amount(s.portalBalanceMinor, s.currency)],
            ['pay link', s.portal?.link],
            ['link sent', s.linkSent],
            ['viewed', s.viewed],
            ['cancelled', s.cancelled],
            ['portal payments posted', s.postedPayments],
            ['ERP entries', s.erpEntries],
          ]),
        );
      });
    });

  invoice
    .command('timeline')
    .description("an invoice's link activity: copied, sent, viewed, payments, posted")
    .argument('<number>')
    .option('--json', 'print JSON')
    .action((number: string, opts: OutputOptions) => {
      const input = parseArgs(one, { number }, NAMES);
      return withOps(async (ctx) => {
        const [events, state] = await Promise.all([invoiceTimeline(ctx, input.number), opts.json ? null : invoiceState(ctx, input.number)]);
        const rows = events.map((e) => ({ ...e, amount: e.amountMinor === undefined ? null : amount(e.amountMinor, state?.currency) }));
        emit(events, opts, () =>
          table(rows, [['at', 'AT'], ['kind', 'EVENT'], ['channel', 'CHANNEL'], ['amount', 'AMOUNT'], ['by', 'BY'], ['detail', 'DETAIL']]),
        );
      });
    });

  invoice
    .command('send-link')
    .description('send the view-and-pay link to the customer (again) by email and/or SMS')
    .argument('<number>')
    .option('--channel <channel>', 'email or sms; repeat for both (default: the configured channels)', collect)
    .option('--by <who>', 'who is sending')
    .option('--json', 'print JSON')
    .action((number: string, opts: OutputOptions & { channel?: string[]; by?: string }) => {
      const schema = z.object({ number: invoiceNumber, channels: channels.optional(), by: actor }).strict();
      const input = parseArgs(schema, { number, channels: opts.channel, by: opts.by }, NAMES);
      return withOps(async (ctx) => {
        const r = await sendLink(ctx, input.number, input.by, input.channels);
        const notBy = r.skipped.map((k) => `; not by ${k.channel} (${k.reason})`).join('');
        emit(r, opts, () => `sent by ${r.sent.join(' and ') || 'no channel'}${notBy}: ${r.link}`);
      });
    });

  invoice
    .command('copy-link')
    .description('copy the view-and-pay link (recorded in the timeline)')
    .argument('<number>')
    .option('--by <who>', 'who is copying')
    .option('--json', 'print JSON')
    .action((number: string, opts: OutputOptions & { by?: string }) => {
      const input = parseArgs(withBy, { number, by: opts.by }, NAMES);
      return withOps(async (ctx) => {
        const r = await copyLink(ctx, input.number, input.by);
        emit(r, opts, () => r.link);
      });
    });

  invoice
    .command('preview-link')
    .description('a staff preview of the portal invoice (never counts as a customer view)')
    .argument('<number>')
    .option('--json', 'print JSON')
    .action((number: string, opts: OutputOptions) => {
      const input = parseArgs(one, { number }, NAMES);
      return withOps(async (ctx) => {
        const link = await previewLink(ctx, input.number);
        emit({ invoiceNumber: input.number, link }, opts, () => link);
      });
    });

  invoice
    .command('reset')
    .description('"Modify Sync Status": forget the portal link so the invoice syncs again')
    .argument('<number>')
    .option('--by <who>', 'who is resetting')
    .option('--why <reason>', 'why')
    .option('--json', 'print JSON')
    .action((number: string, opts: OutputOptions & { by?: string; why?: string }) => {
      const input = parseArgs(withWhy, { number, by: opts.by, why: opts.why }, NAMES);
      return withOps(async (ctx) => {
        const r = await resetInvoice(ctx, input.number, input.by, input.why);
        emit({ invoiceNumber: input.number, ...r }, opts, () => (r.restarted ? `invoice ${input.number}: started again` : `invoice ${input.number}: reset`));
      });
    });

  invoice
    .command('cancel')
    .description('cancel the invoice in the portal and end its workflow')
    .argument('<number>')
    .option('--by <who>', 'who is cancelling')
    .option('--why <reason>', 'why')
    .option('--json', 'print JSON')
    .action((number: string, opts: OutputOptions & { by?: string; why?: string }) => {
      const input = parseArgs(withWhy, { number, by: opts.by, why: opts.why }, NAMES);
      return withOps(async (ctx) => {
        const s = await cancelInvoice(ctx, input.number, input.by, input.why);
        emit(s, opts, () => `invoice ${s.invoiceNumber}: ${s.stage}`);
      });
    });

  invoice
    .command('list')
    .description('invoices by stage, customer or attention (Temporal visibility)')
    .option('--stage <stage>', 'only this stage')
    .option('--customer <number>', 'only this customer')
    .option('--attention', 'only invoices waiting for a person')
    .option('--limit <n>', 'at most this many rows (default 200)')
    .option('--json', 'print JSON')
    .action((opts: OutputOptions & { stage?: string; customer?: string; attention?: boolean; limit?: string }) => {
      const schema = z.object({ stage: invoiceStage.optional(), customer: customerNumber.optional(), attention: z.boolean().optional(), limit: listLimit.optional() });
      const f = parseArgs(schema, { stage: opts.stage, customer: opts.customer, attention: opts.attention, limit: opts.limit }, NAMES);
      return withOps(async (ctx) => {
        const rows = await listInvoices(ctx, { stage: f.stage, customerNumber: f.customer, attention: f.attention, limit: f.limit });
        emit(rows, opts, () => table(rows, INVOICE_LIST_COLUMNS));
      });
    });
}

import type { Command } from 'commander';
import { z } from 'zod';
import { listAttention } from '../operations/attention';
import { listLimit } from '../operations/inputs';
import { emit, parseArgs, table, type OutputOptions } from './io';
import { INVOICE_LIST_COLUMNS } from './invoiceCommands';
import { paymentListTable } from './paymentCommands';
import { withOps } from './ops';

export function registerAttentionCommands(program: Command): void {
  program
    .command('attention')
    .description('invoices and payments waiting for a person, and payments that ended with a reason finance has not re-posted')
    .option('--limit <n>', 'at most this many rows of each (default 200)')
    .option('--json', 'print JSON')
    .action((opts: OutputOptions & { limit?: string }) => {
      const f = parseArgs(z.object({ limit: listLimit.optional() }), { limit: opts.limit }, { limit: '--limit' });
      return withOps(async (ctx) => {
        const r = await listAttention(ctx, f.limit);
        const heading = (what: string, shown: number, total: number) => `${what}: ${total}${shown < total ? ` (${shown} shown; --limit for more)` : ''}`;
        emit(r, opts, () =>
          [
            heading('invoices', r.invoices.length, r.totals.invoices),
            table(r.invoices, INVOICE_LIST_COLUMNS),
            '',
            heading('payments', r.payments.length, r.totals.payments),
            paymentListTable(r.payments),
            '',
            heading('payments ended with a reason (payment resolve re-posts one with a decision)', r.endedPayments.length, r.totals.endedPayments),
            paymentListTable(r.endedPayments),
          ].join('\n'),
        );
      });
    });
}

import type { Command } from 'commander';
import { z } from 'zod';
import { customerState, resetCustomer, setOptIn, syncCustomers } from '../operations/customers';
import { actor, bulk, customerNumber, reason } from '../operations/inputs';
import { emit, parseArgs, record, table, type OutputOptions } from './io';
import { withOps } from './ops';

const NAMES = { number: '<number>', numbers: '<numbers...>', by: '--by', why: '--why', autoBill: '--auto-bill' };

export function registerCustomerCommands(program: Command): void {
  const customer = program.command('customer').description('customers: portal opt-in, sync, state, reset');

  customer
    .command('opt-in')
    .description('"Allow Online Customer Payment Portal" for one or many customers (--off to opt out)')
    .argument('<numbers...>', 'ERP customer numbers')
    .option('--auto-bill', 'also "Auto Bill Recurring Invoices"')
    .option('--no-auto-bill', 'turn auto-bill off')
    .option('--off', 'opt the customers out instead')
    .option('--by <who>', 'who is changing it')
    .option('--json', 'print JSON')
    .action((numbers: string[], opts: OutputOptions & { autoBill?: boolean; off?: boolean; by?: string }) => {
      const schema = z.object({ numbers: bulk(customerNumber), autoBill: z.boolean().optional(), by: actor }).strict();
      const input = parseArgs(schema, { numbers, autoBill: opts.autoBill, by: opts.by }, NAMES);
      return withOps(async (ctx) => {
        const rows = await setOptIn(ctx, input.numbers, { optedIn: !opts.off, autoBill: input.autoBill, by: input.by });
        const view = rows.map((r) => ({ ...r, client: r.portal ? `${r.portal.connectionKey}/${r.portal.clientId}` : null, sync: r.lastSync?.status }));
        emit(rows, opts, () =>
          table(view, [['customerNumber', 'CUSTOMER'], ['optedIn', 'OPTED IN'], ['autoBill', 'AUTO BILL'], ['client', 'PORTAL CLIENT'], ['sync', 'LAST SYNC']]),
        );
      });
    });

  customer
    .command('sync')
    .description('"Sync Customer": create or update the portal client of one or many customers')
    .argument('<numbers...>', 'ERP customer numbers')
    .option('--by <who>', 'who is syncing')
    .option('--json', 'print JSON')
    .action((numbers: string[], opts: OutputOptions & { by?: string }) => {
      const input = parseArgs(z.object({ numbers: bulk(customerNumber), by: actor }).strict(), { numbers, by: opts.by }, NAMES);
      return withOps(async (ctx) => {
        const rows = await syncCustomers(ctx, input.numbers, input.by);
        const view = rows.map((r) => ({ customerNumber: r.customerNumber, status: r.status, detail: r.status === 'ready' ? `${r.connectionKey}/${r.clientId}` : r.detail }));
        emit(rows, opts, () => table(view, [['customerNumber', 'CUSTOMER'], ['status', 'STATUS'], ['detail', 'PORTAL CLIENT / DETAIL']]));
      });
    });

  customer
    .command('show')
    .description("a customer's portal state")
    .argument('<number>')
    .option('--json', 'print JSON')
    .action((number: string, opts: OutputOptions) => {
      const input = parseArgs(z.object({ number: customerNumber }).strict(), { number }, NAMES);
      return withOps(async (ctx) => {
        const s = await customerState(ctx, input.number);
        emit(s, opts, () =>
          record([
            ['customer', s.customerNumber],
            ['opted in', s.optedIn],
            ['auto bill', s.autoBill],
            ['portal client', s.portal ? `${s.portal.connectionKey}/${s.portal.clientId}` : null],
            ['last sync', s.lastSync ? `${s.lastSync.at} ${s.lastSync.status}${s.lastSync.detail ? `: ${s.lastSync.detail}` : ''}` : null],
            ['invoices waiting', s.waitingInvoices],
          ]),
        );
      });
    });

  customer
    .command('reset')
    .description('"Modify Sync Status": forget the portal client link so the customer syncs again')
    .argument('<number>')
    .option('--by <who>', 'who is resetting')
    .option('--why <reason>', 'why')
    .option('--json', 'print JSON')
    .action((number: string, opts: OutputOptions & { by?: string; why?: string }) => {
      const schema = z.object({ number: customerNumber, by: actor, why: reason }).strict();
      const input = parseArgs(schema, { number, by: opts.by, why: opts.why }, NAMES);
      return withOps(async (ctx) => {
        const s = await resetCustomer(ctx, input.number, input.by, input.why);
        emit(s, opts, () => `customer ${s.customerNumber}: reset (opted in: ${s.optedIn})`);
      });
    });
}

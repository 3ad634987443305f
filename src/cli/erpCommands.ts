import type { Command } from 'commander';
import { z } from 'zod';
import type { ErpApplicationRow, MirrorRow } from '../../activities/erpMirrorTypes';
import type { ErpResetRow } from '../../activities/erpReset';
import { listUnsyncedApplications, resetApplications, syncApplications } from '../operations/erpApplications';
import { erpWatcherState, pollErpNow, runReport, startDriftSweep, startWindowSync, windowChoice } from '../operations/erpSync';
import { actor, reason } from '../operations/inputs';
import { removeSchedules, setupSchedules } from '../operations/schedules';
import type { DriftSweepReport } from '../../workflows/driftSweep';
import type { WindowSyncReport } from '../../workflows/windowSync';
import { amount, emit, parseArgs, record, table, type OutputOptions } from './io';
import { withOps } from './ops';

// `arsync erp …`: payments made in the ERP (the watcher, unsynced applications, window sync, drift sweep) and
// `arsync schedule …` for their Temporal Schedules. Same operations and checks as the API.

const NAMES = {
  since: '--since',
  entries: '<entries...>',
  by: '--by',
  why: '--why',
  window: '--window',
  date: '--date',
  wait: '--wait',
  every: '--window-sync-every',
  workflowId: '<workflowId>',
};
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');
const waitSeconds = z.coerce.number().int().min(0).max(3600);
/** The ledger entries a sync or a reset is for, as typed. */
const entryNumbers = z.array(z.coerce.number().int().positive()).min(1).max(500);
const sinceIso = (d: string | undefined) => (d ? `${d}T00:00:00.000Z` : undefined);

export const MIRROR_ROW_COLUMNS = [
  ['invoiceNumber', 'INVOICE'],
  ['customerNumber', 'CUSTOMER'],
  ['status', 'STATUS'],
  ['erpPaid', 'ERP PAID'],
  ['portalPaid', 'PORTAL PAID'],
  ['datePaid', 'DATE PAID'],
  ['detail', 'DETAIL'],
] as const;

export const APPLICATION_COLUMNS = [
  ['kind', 'KIND'],
  ['entryNumber', 'ENTRY'],
  ['reference', 'PORTAL REFERENCE'],
  ['customerNumber', 'CUSTOMER'],
  ['document', 'DOCUMENT'],
  ['postingDate', 'DATE'],
  ['total', 'AMOUNT'],
  ['invoices', 'INVOICES'],
] as const;

const mirrorRows = (rows: readonly MirrorRow[]) =>
  table(
    rows.map((r) => ({ ...r, erpPaid: amount(r.erpPaidMinor, r.currency), portalPaid: amount(r.portalPaidMinor, r.currency) })),
    MIRROR_ROW_COLUMNS,
  );

const applicationRows = (rows: readonly ErpApplicationRow[]) =>
  table(
    rows.map((a) => ({
      ...a,
      document: `${a.documentType} ${a.documentNumber}`,
      total: amount(a.amountMinor, a.currency),
      invoices: a.invoices.map((i) => `${i.invoiceNumber} ${amount(i.amountMinor, a.currency)}`),
    })),
    APPLICATION_COLUMNS,
  );

/** One line per portal payment a reset deleted (an entry with none: one line saying why). */
type ResetLine = { entry: number; status: string; customer: string | null; connection: string | null; payment: string | null; reference: string | null; total: string | null };
const resetRows = (rows: readonly ErpResetRow[]) =>
  table(
    rows.flatMap((r): ResetLine[] =>
      r.payments.length
        ? r.payments.map((p) => ({ entry: r.entryNumber, status: r.status, customer: r.customerNumber, connection: p.connection, payment: p.portalPaymentId, reference: p.reference, total: amount(p.amountMinor, p.currency) }))
        : [{ entry: r.entryNumber, status: r.status, customer: r.customerNumber, connection: null, payment: null, reference: null, total: null }],
    ),
    [
      ['entry', 'ENTRY'],
      ['status', 'STATUS'],
      ['customer', 'CUSTOMER'],
      ['connection', 'CONNECTION'],
      ['payment', 'PORTAL PAYMENT'],
      ['reference', 'PORTAL REFERENCE'],
      ['total', 'AMOUNT'],
    ],
  );

/** Invoice numbers found in line: the first 20 in a table (all of them in --json). */
const numbersList = (numbers: readonly string[]) => (numbers.length > 20 ? `${numbers.slice(0, 20).join(', ')} and ${numbers.length - 20} more (--json lists all)` : numbers.join(', '));

function renderWindowSync(r: WindowSyncReport, done: boolean): string {
  return [
    record([
      ['run', r.workflowId],
      ['status', done ? r.status : `${r.status} (still running: arsync erp report ${r.workflowId})`],
      ['window', r.window ? `${r.window.kind}${r.window.fellBack ? ' (no successful run yet)' : ''} from ${r.window.startIso}` : null],
      ['invoices', r.summary.invoices],
      ['changed', r.summary.changed],
      ['already right', r.summary.alreadyRight],
      ['found in line', numbersList(r.inSyncInvoices)],
      ['not in the portal', r.summary.notInPortal],
      ['not done', r.summary.notDone],
      ['last run recorded', r.lastRunRecorded],
    ]),
    '',
    mirrorRows(r.rows),
  ].join('\n');
}

function renderDriftSweep(r: DriftSweepReport, done: boolean): string {
  return [
    record([
      ['run', r.workflowId],
      ['status', done ? r.status : `${r.status} (still running: arsync erp report ${r.workflowId})`],
      ['invoices', r.summary.invoices],
      ['in sync', r.summary.inSync],
      ['found in line', numbersList(r.inSyncInvoices)],
      ['healed', r.summary.healed],
      ['reported (drift)', r.summary.reported],
      ['deferred', r.summary.deferred],
      ['not in the portal', r.summary.notInPortal],
      ['failed', r.summary.failed],
      ['flagged', r.flagged],
      ['cleared', r.cleared],
    ]),
    '',
    mirrorRows(r.rows),
  ].join('\n');
}

export function registerErpCommands(program: Command): void {
  const erp = program.command('erp').description('payments made in the ERP: the watcher, unsynced applications, window sync, drift sweep');

  erp
    .command('watcher')
    .description("the ERP ledger watcher's watermark, counts and last successful window sync")
    .option('--json', 'print JSON')
    .action((opts: OutputOptions) =>
      withOps(async (ctx) => {
        const st = await erpWatcherState(ctx);
        emit(st, opts, () =>
          record([
            ['watermark', st.watermark],
            ['polls', st.polls],
            ['last poll', st.lastPollAt],
            ['recorded', st.recorded],
            ['reduced', st.reduced],
            ['last window sync', st.lastWindowSync ? `${new Date(st.lastWindowSync.atMs).toISOString()} (${st.lastWindowSync.workflowId})` : null],
            ['to look at again', st.retry.map((r) => r.invoiceNumber)],
            ['last error', st.lastError],
          ]),
        );
      }),
    );

  erp
    .command('poll')
    .description('make the ERP watcher read the ledger now')
    .action(() =>
      withOps(async (ctx) => {
        const r = await pollErpNow(ctx);
        process.stdout.write(`asked ${r.workflowId} to poll now\n`);
      }),
    );

  erp
    .command('applications')
    .description('Filter Unsynced Applications: ERP applications to synced invoices the portal does not show yet (changes nothing)')
    .option('--since <date>', 'invoices and entries changed since this date (default: the same day last month)')
    .option('--json', 'print JSON')
    .action((opts: OutputOptions & { since?: string }) => {
      const a = parseArgs(z.object({ since: day.optional() }), { since: opts.since }, NAMES);
      return withOps(async (ctx) => {
        const rows = await listUnsyncedApplications(ctx, { sinceIso: sinceIso(a.since) });
        emit(rows, opts, () => applicationRows(rows));
      });
    });

  erp
    .command('sync')
    .description('bring the selected ERP applications (by ledger entry number) to the portal')
    .argument('<entries...>', 'ledger entry numbers, as listed by "arsync erp applications"')
    .requiredOption('--by <who>', 'who is syncing')
    .option('--since <date>', 'as for "arsync erp applications"')
    .option('--json', 'print JSON')
    .action((entries: string[], opts: OutputOptions & { by?: string; since?: string }) => {
      const schema = z.object({ entries: entryNumbers, by: actor, since: day.optional() });
      const a = parseArgs(schema, { entries, by: opts.by, since: opts.since }, NAMES);
      return withOps(async (ctx) => {
        const res = await syncApplications(ctx, { entries: a.entries, sinceIso: sinceIso(a.since), by: a.by });
        emit(res, opts, () => [applicationRows(res.applications), '', mirrorRows(res.invoices)].join('\n'));
      });
    });

  erp
    .command('reset')
    .description('Modify Sync Status of ERP applications: delete what the portal shows of these ledger entries, for "arsync erp sync" to record them afresh')
    .argument('<entries...>', 'ledger entry numbers')
    .requiredOption('--by <who>', 'who is resetting')
    .requiredOption('--why <reason>', 'why')
    .option('--json', 'print JSON')
    .action((entries: string[], opts: OutputOptions & { by?: string; why?: string }) => {
      const schema = z.object({ entries: entryNumbers, by: actor, why: reason });
      const a = parseArgs(schema, { entries, by: opts.by, why: opts.why }, NAMES);
      return withOps(async (ctx) => {
        const res = await resetApplications(ctx, { entries: a.entries, by: a.by, why: a.why });
        emit(res, opts, () => resetRows(res.resets ?? []));
      });
    });

  erp
    .command('window-sync')
    .description('Update Invoice Payments: bring paid amounts (and date paid) in line for invoices changed in the ERP since the start of a window')
    .requiredOption('--window <kind>', 'last_successful_run, past_week, past_two_weeks, past_month or custom')
    .option('--date <date>', 'the start date for --window custom (YYYY-MM-DD)')
    .requiredOption('--by <who>', 'who is running it')
    .option('--wait <seconds>', 'wait this long for the report (default 60); the run goes on either way')
    .option('--json', 'print JSON')
    .action((opts: OutputOptions & { window?: string; date?: string; by?: string; wait?: string }) => {
      const schema = z.object({ window: windowChoice, by: actor, wait: waitSeconds.optional() });
      const raw = { window: opts.date === undefined ? { kind: opts.window } : { kind: opts.window, date: opts.date }, by: opts.by, wait: opts.wait };
      const a = parseArgs(schema, raw, NAMES);
      return withOps(async (ctx) => {
        const res = await startWindowSync(ctx, { window: a.window, by: a.by }, { waitMs: a.wait === undefined ? undefined : a.wait * 1000 });
        emit(res, opts, () => renderWindowSync(res.report, res.done));
      });
    });

  erp
    .command('drift-sweep')
    .description('compare every open synced invoice in both systems, heal what the rules allow, report the rest')
    .requiredOption('--by <who>', 'who is running it')
    .option('--wait <seconds>', 'wait this long for the report (default 60); the run goes on either way')
    .option('--json', 'print JSON')
    .action((opts: OutputOptions & { by?: string; wait?: string }) => {
      const a = parseArgs(z.object({ by: actor, wait: waitSeconds.optional() }), { by: opts.by, wait: opts.wait }, NAMES);
      return withOps(async (ctx) => {
        const res = await startDriftSweep(ctx, { by: a.by }, { waitMs: a.wait === undefined ? undefined : a.wait * 1000 });
        emit(res, opts, () => renderDriftSweep(res.report, res.done));
      });
    });

  erp
    .command('report')
    .description('the report of a window sync or drift sweep run, finished or still running')
    .argument('<workflowId>', 'window-sync:… or drift-sweep:…')
    .option('--json', 'print JSON')
    .action((workflowId: string, opts: OutputOptions) => {
      const a = parseArgs(z.object({ workflowId: z.string().regex(/^(window-sync|drift-sweep):/, 'a window-sync:… or drift-sweep:… workflow id') }), { workflowId }, NAMES);
      return withOps(async (ctx) => {
        const kind = a.workflowId.startsWith('window-sync:') ? 'window-sync' : 'drift-sweep';
        const r = await runReport(ctx, kind, a.workflowId);
        emit(r, opts, () => (kind === 'window-sync' ? renderWindowSync(r as WindowSyncReport, true) : renderDriftSweep(r as DriftSweepReport, true)));
      });
    });

  const schedule = program.command('schedule').description('Temporal Schedules of the window sync and the drift sweep');
  schedule
    .command('setup')
    .description('create the schedules, or update them in place (idempotent)')
    .option('--window-sync-every <duration>', 'how often the window sync runs since the last successful run (default 1d)')
    .option('--json', 'print JSON')
    .action((opts: OutputOptions & { windowSyncEvery?: string }) => {
      const a = parseArgs(z.object({ every: z.string().regex(/^\d+(ms|s|m|h|d)$/, 'a duration like "1d"').optional() }), { every: opts.windowSyncEvery }, NAMES);
      return withOps(async (ctx) => {
        const rows = await setupSchedules(ctx, { windowSyncEvery: a.every });
        emit(rows, opts, () => table(rows.map((r) => ({ ...r, every: `${r.everyMs / 1000} s` })), [['scheduleId', 'SCHEDULE'], ['workflowType', 'RUNS'], ['every', 'EVERY'], ['status', 'STATUS']]));
      });
    });
  schedule
    .command('remove')
    .description('delete the schedules (runs already started go on)')
    .option('--json', 'print JSON')
    .action((opts: OutputOptions) =>
      withOps(async (ctx) => {
        const rows = await removeSchedules(ctx);
        emit(rows, opts, () => table(rows, [['scheduleId', 'SCHEDULE'], ['status', 'STATUS']]));
      }),
    );
}

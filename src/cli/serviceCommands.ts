import type { Command } from 'commander';
import { startServices } from '../operations/services';
import { createPortalDirectory } from '../worker/portals';
import { emit, table, type OutputOptions } from './io';
import { withOps } from './ops';

// `arsync services …`: what a deployment runs besides invoices and payments (the demo bootstrap runs the same).

export function registerServiceCommands(program: Command): void {
  const services = program.command('services').description('portal webhooks, pollers, the BC subscription, the ERP watcher and the Schedules');
  services
    .command('start')
    .description('register the portal webhooks and start the service workflows and Schedules of the configured connections (idempotent)')
    .option('--json', 'print JSON')
    .action((opts: OutputOptions) =>
      withOps(async (ctx) => {
        const report = await startServices(ctx, createPortalDirectory(ctx.config));
        const rows = [
          ...report.webhooks.map((w) => ({ kind: 'webhook', name: `${w.connection} ${w.event}`, status: w.status })),
          ...report.workflows.map((w) => ({ kind: 'workflow', name: w.workflowId, status: w.status })),
          ...report.schedules.map((s) => ({ kind: 'schedule', name: s.scheduleId, status: s.status })),
        ];
        emit(report, opts, () => table(rows, [['kind', 'KIND'], ['name', 'NAME'], ['status', 'STATUS']]));
      }),
    );
}

import type { Command } from 'commander';
import { registerSearchAttributes } from '../temporal/setup';
import { systemCheck } from '../../workflows';
import { printJson, withTemporal } from './context';

export function registerTemporalCommands(program: Command): void {
  const temporal = program.command('temporal').description('Temporal cluster operations');
  temporal
    .command('setup')
    .description('register the custom search attributes on the configured namespace (real clusters; idempotent)')
    .action(() =>
      withTemporal(async ({ config, client }) => {
        const added = await registerSearchAttributes(client, config.env.TEMPORAL_NAMESPACE);
        console.log(added.length ? `registered: ${added.join(', ')}` : 'all search attributes already registered');
      }),
    );

  program
    .command('doctor')
    .description('run a workflow through the configured server and worker, and print what answered')
    .action(() =>
      withTemporal(async ({ config, client }) => {
        const result = await client.workflow.execute(systemCheck, {
          taskQueue: config.env.TEMPORAL_TASK_QUEUE,
          workflowId: `system-check-${Date.now()}`,
          workflowExecutionTimeout: '30s',
        });
        printJson(result);
      }),
    );
}

import { Command } from 'commander';
import { registerTemporalCommands } from './temporalCommands';

// `arsync …`: operator and finance commands. Each command module registers its own subcommands.
const program = new Command('arsync').description('Invoice-to-cash reconciliation between Business Central and Invoice Ninja');
registerTemporalCommands(program);

program.parseAsync(process.argv).catch((err) => {
  process.stderr.write(`arsync: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

import { Command } from 'commander';
import { registerAttentionCommands } from './attentionCommands';
import { registerCustomerCommands } from './customerCommands';
import { registerErpCommands } from './erpCommands';
import { registerInvoiceCommands } from './invoiceCommands';
import { UsageError } from './io';
import { registerPaymentCommands } from './paymentCommands';
import { registerServiceCommands } from './serviceCommands';
import { registerTemporalCommands } from './temporalCommands';

// `arsync …`: operator and finance commands. Each command module registers its own subcommands.
// Exit codes: 0 done; 1 the operation failed (unknown id, rejected decision, no answer); 2 a bad command line.
const program = new Command('arsync').description('Invoice-to-cash reconciliation between Business Central and Invoice Ninja');
// Set before the subcommands exist so they inherit it: commander's own usage errors exit 2 as well.
program.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
registerTemporalCommands(program);
registerInvoiceCommands(program);
registerCustomerCommands(program);
registerPaymentCommands(program);
registerAttentionCommands(program);
registerErpCommands(program);
registerServiceCommands(program);

program.parseAsync(process.argv).catch((err) => {
  process.stderr.write(`arsync: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});

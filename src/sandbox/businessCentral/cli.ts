import { Command } from 'commander';
import { DEFAULT_ADMIN_TOKEN } from './server';

// Acting as an ERP user from the shell, through the sandbox's /admin routes, e.g.
//   tsx src/sandbox/businessCentral/cli.ts post-invoice --customer C10000 --line "Consulting,10,150,8.25"
//   tsx src/sandbox/businessCentral/cli.ts pay --invoice PS-INV103001 --amount 50
// BC_SANDBOX_URL (http://127.0.0.1:4010) and BC_SANDBOX_ADMIN_TOKEN select the sandbox.

const program = new Command('bc-sandbox').description('Act as a Business Central user in the sandbox ERP');
program
  .option('--url <url>', 'sandbox base URL', process.env.BC_SANDBOX_URL ?? 'http://127.0.0.1:4010')
  .option('--token <token>', 'admin token', process.env.BC_SANDBOX_ADMIN_TOKEN ?? DEFAULT_ADMIN_TOKEN);

async function call(method: string, path: string, body?: unknown): Promise<unknown> {
  const { url, token } = program.opts<{ url: string; token: string }>();
  const res = await fetch(`${url}/admin${path}`, {
    method,
    headers: { 'x-admin-token': token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(`${res.status}: ${json?.error?.message ?? text}`);
  return json;
}

const print = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};
const collect = (value: string, previous: string[]) => [...previous, value];

/** "description,quantity,unitPrice,taxPercent" (description may not contain commas; taxPercent optional). */
function parseLine(text: string) {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length < 3 || parts.length > 4) throw new Error(`--line must be "description,qty,unitPrice[,taxPercent]", got "${text}"`);
  const [description, quantity, unitPrice, taxPercent] = parts;
  return { description, quantity, unitPrice, ...(taxPercent ? { taxPercent } : {}) };
}

program
  .command('post-invoice')
  .description('create and post a sales invoice')
  .requiredOption('--customer <number>', 'customer number, e.g. C10000')
  .option('--line <line>', '"description,qty,unitPrice,taxPercent" (repeatable)', collect, [])
  .option('--paid <amount>', 'amount paid at posting')
  .option('--external <docNo>', 'external document number')
  .option('--draft', 'leave it as a draft')
  .action(async (o: { customer: string; line: string[]; paid?: string; external?: string; draft?: boolean }) => {
    const lines = o.line.length ? o.line.map(parseLine) : [{ description: 'Services', quantity: '1', unitPrice: '100.00', taxPercent: '8.25' }];
    print(await call('POST', '/invoices', { customerNumber: o.customer, lines, paidAtPosting: o.paid, externalDocumentNumber: o.external, draft: o.draft }));
  });

program
  .command('pay')
  .description('record a payment in the ERP applied to an invoice')
  .requiredOption('--invoice <number>', 'posted invoice number')
  .requiredOption('--amount <amount>', 'amount, e.g. 25.50')
  .option('--external <docNo>', 'external document number')
  .option('--method <code>', 'payment method code')
  .action(async (o: { invoice: string; amount: string; external?: string; method?: string }) =>
    print(await call('POST', `/invoices/${encodeURIComponent(o.invoice)}/payments`, { amount: o.amount, externalDocumentNumber: o.external, paymentMethodCode: o.method })),
  );

program
  .command('unapply')
  .description('unapply a payment (by ledger entry number or document number)')
  .option('--entry <number>', 'payment ledger entry number')
  .option('--document <docNo>', 'payment document number')
  .action(async (o: { entry?: string; document?: string }) =>
    print(await call('POST', '/unapply', o.entry ? { entryNumber: Number(o.entry) } : { documentNumber: o.document })),
  );

program
  .command('cancel')
  .description('cancel a posted invoice (full corrective credit memo)')
  .requiredOption('--invoice <number>')
  .action(async (o: { invoice: string }) => print(await call('POST', `/invoices/${encodeURIComponent(o.invoice)}/cancel`, {})));

program
  .command('credit')
  .description('post a corrective credit memo applied to an invoice')
  .requiredOption('--invoice <number>')
  .option('--amount <amount>', 'partial credit amount (default: the remaining amount)')
  .action(async (o: { invoice: string; amount?: string }) => print(await call('POST', `/invoices/${encodeURIComponent(o.invoice)}/credit`, { amount: o.amount })));

program
  .command('customers')
  .description('list customers')
  .action(async () => print(await call('GET', '/customers')));

program
  .command('invoices')
  .description('list sales invoices with status and remaining amount')
  .action(async () => print(await call('GET', '/invoices')));

program
  .command('ledger')
  .description('list customer ledger entries')
  .option('--customer <number>')
  .action(async (o: { customer?: string }) => print(await call('GET', `/ledger-entries${o.customer ? `?customerNumber=${encodeURIComponent(o.customer)}` : ''}`)));

program
  .command('notify')
  .description('send pending webhook notifications now')
  .action(async () => print(await call('POST', '/notifications/flush')));

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});

import { z } from 'zod';
import { createInvoiceNinjaSandbox, DEFAULT_ADMIN_TOKEN } from './server';

// Runs the Invoice Ninja sandbox as its own process (`tsx src/sandbox/invoiceNinja/main.ts`).
//   IN_SANDBOX_HOST / IN_SANDBOX_PORT        listen address (127.0.0.1:4020)
//   IN_SANDBOX_DATA_FILE                     state file (.data/sandbox-in.json)
//   INVOICE_NINJA_TOKEN / IN_SANDBOX_TOKENS  accepted API tokens (arsync-demo-token; the second is comma-separated)
//   IN_SANDBOX_PUBLIC_URL                    base URL in invitation links (the listen address)
//   IN_SANDBOX_WEBHOOK_DELAY_MS              delay before webhook deliveries (0)
//   IN_SANDBOX_PENDING_SETTLE_MS             pending bank payments complete after this long (60000; 0 waits for admin)
//   IN_SANDBOX_CARD_FEE_PERCENT / _FIXED_MINOR, IN_SANDBOX_BANK_FEE_PERCENT / _FIXED_MINOR  convenience fees
//   IN_SANDBOX_TAX_ARITHMETIC                exact (default) or float: taxes a cent off on some .xx5 values, as PHP's can
//   SANDBOX_ADMIN_TOKEN                      X-Sandbox-Admin-Token value for /admin routes

const env = z
  .object({
    IN_SANDBOX_HOST: z.string().default('127.0.0.1'),
    IN_SANDBOX_PORT: z.coerce.number().int().min(0).max(65535).default(4020),
    IN_SANDBOX_DATA_FILE: z.string().default('.data/sandbox-in.json'),
    INVOICE_NINJA_TOKEN: z.string().min(1).default('arsync-demo-token'),
    IN_SANDBOX_TOKENS: z.string().optional(),
    IN_SANDBOX_PUBLIC_URL: z.url().optional(),
    IN_SANDBOX_WEBHOOK_DELAY_MS: z.coerce.number().int().min(0).default(0),
    IN_SANDBOX_PENDING_SETTLE_MS: z.coerce.number().int().min(0).default(60_000),
    IN_SANDBOX_CARD_FEE_PERCENT: z.coerce.number().min(0).max(100).default(2.9),
    IN_SANDBOX_CARD_FEE_FIXED_MINOR: z.coerce.number().int().min(0).default(30),
    IN_SANDBOX_BANK_FEE_PERCENT: z.coerce.number().min(0).max(100).default(0),
    IN_SANDBOX_BANK_FEE_FIXED_MINOR: z.coerce.number().int().min(0).default(100),
    IN_SANDBOX_TAX_ARITHMETIC: z.enum(['exact', 'float']).default('exact'),
    SANDBOX_ADMIN_TOKEN: z.string().min(1).default(DEFAULT_ADMIN_TOKEN),
  })
  .parse(process.env);

async function main() {
  const tokens = [env.INVOICE_NINJA_TOKEN, ...(env.IN_SANDBOX_TOKENS?.split(',').map((t) => t.trim()).filter(Boolean) ?? [])];
  const sandbox = await createInvoiceNinjaSandbox({
    dataFile: env.IN_SANDBOX_DATA_FILE,
    apiTokens: tokens,
    publicUrl: env.IN_SANDBOX_PUBLIC_URL,
    webhookDelayMs: env.IN_SANDBOX_WEBHOOK_DELAY_MS,
    pendingSettleMs: env.IN_SANDBOX_PENDING_SETTLE_MS > 0 ? env.IN_SANDBOX_PENDING_SETTLE_MS : undefined,
    fees: {
      card: { percent: env.IN_SANDBOX_CARD_FEE_PERCENT, fixedMinor: env.IN_SANDBOX_CARD_FEE_FIXED_MINOR },
      bank: { percent: env.IN_SANDBOX_BANK_FEE_PERCENT, fixedMinor: env.IN_SANDBOX_BANK_FEE_FIXED_MINOR },
    },
    taxArithmetic: env.IN_SANDBOX_TAX_ARITHMETIC,
    adminToken: env.SANDBOX_ADMIN_TOKEN,
    logger: true,
  });
  const url = await sandbox.listen(env.IN_SANDBOX_PORT, env.IN_SANDBOX_HOST);
  sandbox.app.log.info(`Invoice Ninja sandbox on ${url} (API ${url}/api/v1, portal ${url}/client)`);
  const stop = async () => {
    await sandbox.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

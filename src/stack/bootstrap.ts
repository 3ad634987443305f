import { payLinkOf } from '../adapters/invoiceNinja';
import { businessCentralFromConfig } from '../config/clients';
import type { Config } from '../config/load';
import { setOptIn } from '../operations/customers';
import { opsContext } from '../operations/context';
import { invoiceState, startInvoices } from '../operations/invoices';
import { startServices } from '../operations/services';
import { createTemporalClient } from '../temporal/connection';
import { createPortalDirectory } from '../worker/portals';

/** The sandbox ERP's demo customers, opted in to the portal on first start (C30000 has no email on purpose). */
const DEMO_CUSTOMERS = ['C10000', 'C20000', 'C30000', 'C40000'];

/**
 * Brings the embedded stack to "the first five minutes": the services started (portal webhooks, pollers, the BC
 * subscription, the ERP watcher, the Schedules: `startServices`), demo customers opted in, every open ERP invoice
 * started, and the demo invoice's links printed. Idempotent, so every `npm start` runs it.
 */
export async function bootstrapDemo(config: Config): Promise<string[]> {
  const client = await createTemporalClient(config.env);
  try {
    const ops = opsContext(client, config);
    // What a production deployment runs with `arsync services start`; the rest is demo data.
    await startServices(ops, createPortalDirectory(config));
    await setOptIn(ops, DEMO_CUSTOMERS, { optedIn: true, by: 'demo bootstrap' });
    const bc = businessCentralFromConfig(config);
    const open = await bc.listSalesInvoices({ status: 'Open', lines: false });
    await startInvoices(ops, open.map((i) => i.number));
    const demo = open.find((i) => i.customerNumber === 'C10000');
    if (!demo) return ['No open demo invoice for C10000: post one with the command below.', ...postHint()];
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline) {
      const st = await invoiceState(ops, demo.number).catch(() => null);
      if (st?.portal && st.stage !== 'syncing') {
        return [
          `Demo invoice ${demo.number} (${st.stage})`,
          `  view and pay:        ${st.portal.link}`,
          `  straight to paying:  ${payLinkOf(st.portal.link, st.portal.invitationKey)}`,
          `  in the Temporal UI:  ${config.env.TEMPORAL_UI_URL}/namespaces/${config.env.TEMPORAL_NAMESPACE}/workflows?query=${encodeURIComponent(`InvoiceNumber="${demo.number}"`)}`,
          ...postHint(),
        ];
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    return [`Demo invoice ${demo.number} has not reached the portal yet; see the worker log.`, ...postHint()];
  } finally {
    await client.connection.close();
  }
}

function postHint(): string[] {
  return [
    '',
    'Post another invoice in the sandbox ERP and watch it arrive:',
    '  npm run bc -- post-invoice --customer C10000 --line "Consulting,4,125.00,8.25"',
    'Operators: npx arsync --help',
  ];
}

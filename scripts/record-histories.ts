import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import axios from 'axios';
import { temporal } from '@temporalio/proto';
import { formatDecimal } from '../src/domain/money';
import { setOptIn, syncCustomers } from '../src/operations/customers';
import { cancelInvoice, copyLink, invoiceState, resetInvoice, sendLink } from '../src/operations/invoices';
import { registerPortalWebhooks, startServiceWorkflows } from '../src/operations/services';
import { startOwnTemporal } from '../src/temporal/ownDevServer';
import { buildWorkflowBundle } from '../src/worker/bundle';
import { bcSubscriptionWorkflowId, customerWorkflowId, invoiceWorkflowId } from '../workflows/ids';
import { INVOICE_WORKFLOW_REVISION } from '../workflows/invoiceLifecycle';
import type { InvoiceState } from '../workflows/invoiceTypes';
import { payOnPortal } from '../test/support/portalPay';
import { eventually, startStack, type TestStack } from '../test/support/stack';

// Records the histories of real runs for the replay test (test/workflows/replay.test.ts): a Temporal dev server and the
// whole stack in-process (the end-to-end harness), an invoice driven from ERP posting to posted, one through the
// require-email wait, a reset and an operator cancel, and the customer and subscription workflows they used.
// Files are named by the invoice workflow revision they were recorded at (`<name>.r<revision>.json`; the unsuffixed ones
// are revision 1), so each revision's runs stay guarded. Record after a new revision:  npx tsx scripts/record-histories.ts

const OUT = path.resolve(__dirname, '../test/fixtures/histories');

async function main() {
  const server = await startOwnTemporal();
  let s: TestStack | undefined;
  try {
    process.env.TEMPORAL_ADDRESS = server.address;
    process.env.TEMPORAL_NAMESPACE = 'default';
    process.env.ARSYNC_WORKFLOW_BUNDLE = await buildWorkflowBundle(path.join(os.tmpdir(), `arsync-record-${process.pid}.js`));
    s = await startStack();
    await record(s);
  } finally {
    await s?.close();
    await server.stop();
  }
}

async function record(s: TestStack) {
  const stage = (number: string, wanted: InvoiceState['stage']) =>
    eventually(async () => {
      const st = await invoiceState(s.ops, number);
      return st.stage === wanted && st;
    }, 20000, `invoice ${number} ${wanted}`);
  await registerPortalWebhooks(s.ops, s.deps.portals);
  await startServiceWorkflows(s.ops, s.deps.portals);
  await setOptIn(s.ops, ['C10000'], { optedIn: true, by: 'recorder' });
  await eventually(async () => (await s.deps.bc.listSubscriptions()).length > 0, 20000, 'the BC subscription');

  // 1. Happy path: posted → portal → link sent, resent and copied → viewed → paid in two parts → posted.
  const happy = s.bc.admin.postInvoice({
    customerNumber: 'C10000',
    externalDocumentNumber: 'PO-REPLAY',
    lines: [
      { description: 'Consulting', quantity: 3, unitPrice: '99.99', taxPercent: '8.25' },
      { description: 'Stamp', quantity: 1, unitPrice: '0.10', taxPercent: '5' },
    ],
  });
  const st = await stage(happy.number, 'link_sent');
  await sendLink(s.ops, happy.number, 'recorder', ['email']);
  await copyLink(s.ops, happy.number, 'recorder');
  // A view in the same second as the invoice's last change would be skipped by the watcher's cursor.
  await new Promise((r) => setTimeout(r, 1100));
  await axios.get(st.portal!.link);
  await stage(happy.number, 'viewed');
  await payOnPortal(s.portal.url, st.portal!.invitationKey, [{ invoiceId: st.portal!.invoiceId, amount: '100.00' }]);
  await stage(happy.number, 'partially_paid');
  const balance = (await s.deps.portals.client('default').getInvoice(st.portal!.invoiceId)).balance;
  await payOnPortal(s.portal.url, st.portal!.invitationKey, [{ invoiceId: st.portal!.invoiceId, amount: formatDecimal(balance.minor, balance.currency) }]);
  await s.t.client.workflow.getHandle(invoiceWorkflowId(s.ops.companyId, happy.number)).result();

  // 2. Require email: waits, resumes after the fix and resync, is reset, then cancelled by an operator.
  await setOptIn(s.ops, ['C30000'], { optedIn: true, by: 'recorder' });
  const waiting = s.bc.admin.postInvoice({ customerNumber: 'C30000', lines: [{ description: 'Course', quantity: 1, unitPrice: '250.00', taxPercent: '7' }] });
  await stage(waiting.number, 'needs_attention');
  s.bc.admin.updateCustomer('C30000', { email: 'office@fineart.example' });
  await syncCustomers(s.ops, ['C30000'], 'recorder');
  await stage(waiting.number, 'link_sent');
  await resetInvoice(s.ops, waiting.number, 'recorder', 'replay fixture');
  await stage(waiting.number, 'link_sent');
  await cancelInvoice(s.ops, waiting.number, 'recorder', 'replay fixture');
  await s.t.client.workflow.getHandle(invoiceWorkflowId(s.ops.companyId, waiting.number)).result();

  const fixtures: Record<string, string> = {
    'invoice-happy-path': invoiceWorkflowId(s.ops.companyId, happy.number),
    'invoice-missing-email-reset-cancel': invoiceWorkflowId(s.ops.companyId, waiting.number),
    'customer-C10000': customerWorkflowId(s.ops.companyId, 'C10000'),
    'customer-C30000': customerWorkflowId(s.ops.companyId, 'C30000'),
    'bc-subscription': bcSubscriptionWorkflowId(s.ops.companyId, 'salesInvoices'),
  };
  fs.mkdirSync(OUT, { recursive: true });
  for (const [name, workflowId] of Object.entries(fixtures)) {
    const history = await s.t.client.workflow.getHandle(workflowId).fetchHistory();
    // protobufjs' own object form (enums by name, 64-bit numbers and bytes as strings): History.fromObject reads it back.
    const json = temporal.api.history.v1.History.toObject(temporal.api.history.v1.History.fromObject(history), { enums: String, longs: String, bytes: String, json: true });
    fs.writeFileSync(path.join(OUT, `${name}.r${INVOICE_WORKFLOW_REVISION}.json`), `${JSON.stringify(json, null, 1)}\n`);
    console.log(`${name}: ${history.events?.length ?? 0} events`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import axios from 'axios';
import { temporal } from '@temporalio/proto';
import { formatDecimal } from '../src/domain/money';
import { setOptIn, syncCustomers } from '../src/operations/customers';
import { cancelInvoice, copyLink, invoiceState, resetInvoice, sendLink } from '../src/operations/invoices';
import { resolve } from '../src/operations/payments';
import { startOwnTemporal } from '../src/temporal/ownDevServer';
import { buildWorkflowBundle } from '../src/worker/bundle';
import { bcSubscriptionWorkflowId, customerWorkflowId, invoiceWorkflowId, paymentWorkflowId } from '../workflows/ids';
import { INVOICE_WORKFLOW_REVISION } from '../workflows/invoiceLifecycle';
import type { InvoiceState } from '../workflows/invoiceTypes';
import { PAYMENT_WORKFLOW_REVISION } from '../workflows/portalPayment';
import { apiPayment, paymentAt, portalOnlyInvoice, postErpInvoice, startPaymentStack } from '../test/e2e/paymentFixtures';
import { payOnPortal } from '../test/support/portalPay';
import { eventually, type TestStack } from '../test/support/stack';

// Records the histories of real runs for the replay test (test/workflows/replay.test.ts): a Temporal dev server and the
// whole stack in-process (the end-to-end harness, set up as the payment end-to-end tests set it up), and:
//   invoices   an invoice driven from ERP posting to posted; one through the require-email wait, a reset and an operator
//              cancel; one that ended at posted, reopened by the ERP (a payment unapplied) and then credited in full
//              (the reopened run); and the customer and subscription workflows they used;
//   payments   a card payment on the pay page posted in the ERP (its gateway fee to the fee account); a card payment to
//              an invoice only the portal has, parked for finance and resolved (apply_to_invoice); a payment to an
//              invoice closed in the ERP that ends skipped (closed_invoice, with "Post Payments for Closed Invoices"
//              off) and the run that finance's resolve starts for it (`repost`, post_unapplied).
// Files are named by the revision of their workflow they were recorded at: `<name>.r<revision>.json` for the invoice
// workflow's revision (the customer and subscription workflows' files follow it), `<name>.p<revision>.json` for the
// payment workflow's. Unsuffixed files are older: the invoice, customer and subscription ones are invoice revision 1,
// payment-decision-while-applying.json is payment revision 4 (its input says so).
// A file is written only when it does not exist: the ones there were recorded by older builds and guard that their runs
// still replay, so they are never overwritten. Record after a new revision:  npx tsx scripts/record-histories.ts

const OUT = path.resolve(__dirname, '../test/fixtures/histories');
const BY = 'recorder';
const WHY = 'replay fixture';

async function main() {
  const server = await startOwnTemporal();
  let s: TestStack | undefined;
  try {
    process.env.TEMPORAL_ADDRESS = server.address;
    process.env.TEMPORAL_NAMESPACE = 'default';
    process.env.ARSYNC_WORKFLOW_BUNDLE = await buildWorkflowBundle(path.join(os.tmpdir(), `arsync-record-${process.pid}.js`));
    // Portal webhooks, pollers, the BC subscription and C10000, C20000 opted in. "Post Payments for Closed Invoices" off, so
    // a payment to a closed invoice ends skipped for finance to re-post; the fee account stays configured.
    s = await startPaymentStack({ settings: { payments: { postPaymentsForClosedInvoices: false } } });
    await save(s, await record(s));
  } finally {
    await s?.close();
    await server.stop();
  }
}

/** A recording to save: the workflow's run (the latest one when no run id is given). */
interface Recording {
  workflowId: string;
  runId?: string;
}

async function record(s: TestStack): Promise<Record<string, Recording>> {
  const stage = (number: string, wanted: InvoiceState['stage']) =>
    eventually(async () => {
      const st = await invoiceState(s.ops, number);
      return st.stage === wanted && st;
    }, 20000, `invoice ${number} ${wanted}`);
  /** Waits until the workflow's current run has completed; returns that run's id. */
  const completed = (workflowId: string, what: string) =>
    eventually(async () => {
      const d = await s.t.client.workflow.getHandle(workflowId).describe();
      return d.status.name === 'COMPLETED' && d.runId;
    }, 30000, `${what} completed`);
  const invoiceId = (number: string) => invoiceWorkflowId(s.ops.companyId, number);
  const paymentId = (id: string) => paymentWorkflowId('default', id);
  const R = `r${INVOICE_WORKFLOW_REVISION}`;
  const P = `p${PAYMENT_WORKFLOW_REVISION}`;

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
  await sendLink(s.ops, happy.number, BY, ['email']);
  await copyLink(s.ops, happy.number, BY);
  // A view in the same second as the invoice's last change would be skipped by the watcher's cursor.
  await new Promise((r) => setTimeout(r, 1100));
  await axios.get(st.portal!.link);
  await stage(happy.number, 'viewed');
  await payOnPortal(s.portal.url, st.portal!.invitationKey, [{ invoiceId: st.portal!.invoiceId, amount: '100.00' }]);
  await stage(happy.number, 'partially_paid');
  const balance = (await s.deps.portals.client('default').getInvoice(st.portal!.invoiceId)).balance;
  await payOnPortal(s.portal.url, st.portal!.invitationKey, [{ invoiceId: st.portal!.invoiceId, amount: formatDecimal(balance.minor, balance.currency) }]);
  await s.t.client.workflow.getHandle(invoiceId(happy.number)).result();

  // 2. Require email: waits, resumes after the fix and resync, is reset, then cancelled by an operator.
  await setOptIn(s.ops, ['C30000'], { optedIn: true, by: BY });
  const waiting = s.bc.admin.postInvoice({ customerNumber: 'C30000', lines: [{ description: 'Course', quantity: 1, unitPrice: '250.00', taxPercent: '7' }] });
  await stage(waiting.number, 'needs_attention');
  s.bc.admin.updateCustomer('C30000', { email: 'office@fineart.example' });
  await syncCustomers(s.ops, ['C30000'], BY);
  await stage(waiting.number, 'link_sent');
  await resetInvoice(s.ops, waiting.number, BY, WHY);
  await stage(waiting.number, 'link_sent');
  await cancelInvoice(s.ops, waiting.number, BY, WHY);
  await s.t.client.workflow.getHandle(invoiceId(waiting.number)).result();

  // 3. A card payment on the pay page, in full: posted in the ERP, applied to the invoice, its fee to the fee account.
  const card = await postErpInvoice(s, 'C10000', '250.00');
  const cardPaid = await payOnPortal(s.portal.url, card.invitationKey, [{ invoiceId: card.portalInvoiceId, amount: '250.00' }]);
  const cardState = await paymentAt(s, cardPaid.paymentId, 'posted');
  if (!(cardPaid.feeMinor > 0 && cardState.plan?.parts.some((p) => p.kind === 'fee'))) throw new Error('the card payment posted no gateway fee');
  const cardRun = await completed(paymentId(cardPaid.paymentId), 'the card payment');

  // 4. Parked for finance: a card payment to an invoice only the portal has waits as unknown_invoice; finance applies it
  //    to the customer's ERP invoice and it is posted.
  const known = await postErpInvoice(s, 'C10000', '300.00');
  const orphan = await portalOnlyInvoice(s, known.portalClientId, `PORTAL-REPLAY-${Date.now()}`, 10000);
  const parked = await payOnPortal(s.portal.url, orphan.invitationKey, [{ invoiceId: orphan.portalInvoiceId, amount: '100.00' }]);
  const waited = await paymentAt(s, parked.paymentId, 'needs_attention');
  if (waited.attention?.reason !== 'unknown_invoice') throw new Error(`the parked payment waits for ${waited.attention?.reason}`);
  await resolve(s.ops, 'default', parked.paymentId, { action: 'apply_to_invoice', invoiceNumber: known.number, by: BY, why: WHY });
  await paymentAt(s, parked.paymentId, 'posted');
  const parkedRun = await completed(paymentId(parked.paymentId), 'the parked payment');

  // 5. Re-post: a payment (through the portal's API, no fee) to an invoice paid in the ERP meanwhile ends skipped
  //    (closed_invoice); finance's resolve starts a new run carrying the decision (post_unapplied), which posts it.
  const closed = await postErpInvoice(s, 'C20000', '33.00');
  s.bc.admin.recordPayment({ invoiceNumber: closed.number, amount: '33.00' });
  const late = await apiPayment(s, closed.portalClientId, 3300, [{ invoiceId: closed.portalInvoiceId, amountMinor: 3300 }]);
  const skipped = await paymentAt(s, late.id, 'skipped', 20000);
  if (skipped.attention?.reason !== 'closed_invoice') throw new Error(`the late payment ended skipped for ${skipped.attention?.reason}`);
  const skippedRun = await completed(paymentId(late.id), 'the skipped payment');
  await resolve(s.ops, 'default', late.id, { action: 'post_unapplied', by: BY, why: WHY });
  const reposted = await paymentAt(s, late.id, 'posted', 20000);
  if (reposted.repostOf?.runId !== skippedRun) throw new Error('the posted run is no re-post of the skipped one');
  const repostRun = await completed(paymentId(late.id), 'the re-post run');
  if (repostRun === skippedRun) throw new Error('no new run for the re-post');

  // 6. Reopened by the ERP: an invoice paid in full in the ERP ends at posted; the payment is unapplied there, a new run
  //    shows the money due again (on both sides), and a full credit memo then cancels it.
  const reopened = await postErpInvoice(s, 'C10000', '120.00');
  const erpPayment = s.bc.admin.recordPayment({ invoiceNumber: reopened.number, amount: '120.00' });
  const postedRun = await completed(invoiceId(reopened.number), 'the paid invoice');
  s.bc.admin.unapplyPayment({ entryNumber: erpPayment.entryNumber });
  const reopenRun = await eventually(async () => {
    const d = await s.t.client.workflow.getHandle(invoiceId(reopened.number)).describe();
    if (d.runId === postedRun || d.status.name !== 'RUNNING') return false;
    const now = await invoiceState(s.ops, reopened.number);
    return now.erpRemainingMinor === reopened.totalMinor && now.portalBalanceMinor === reopened.totalMinor && d.runId;
  }, 20000, `invoice ${reopened.number} reopened`);
  s.bc.admin.creditInvoice(reopened.number);
  if ((await completed(invoiceId(reopened.number), 'the reopened invoice')) !== reopenRun) throw new Error('the reopened run was not the last');

  return {
    [`invoice-happy-path.${R}`]: { workflowId: invoiceId(happy.number) },
    [`invoice-missing-email-reset-cancel.${R}`]: { workflowId: invoiceId(waiting.number) },
    [`invoice-reopened.${R}`]: { workflowId: invoiceId(reopened.number), runId: reopenRun },
    [`customer-C10000.${R}`]: { workflowId: customerWorkflowId(s.ops.companyId, 'C10000') },
    [`customer-C30000.${R}`]: { workflowId: customerWorkflowId(s.ops.companyId, 'C30000') },
    [`bc-subscription.${R}`]: { workflowId: bcSubscriptionWorkflowId(s.ops.companyId, 'salesInvoices') },
    [`payment-card-posted.${P}`]: { workflowId: paymentId(cardPaid.paymentId), runId: cardRun },
    [`payment-resolved.${P}`]: { workflowId: paymentId(parked.paymentId), runId: parkedRun },
    [`payment-skipped-closed.${P}`]: { workflowId: paymentId(late.id), runId: skippedRun },
    [`payment-repost.${P}`]: { workflowId: paymentId(late.id), runId: repostRun },
  };
}

/** Writes each recording not on disk yet; one already there is kept as it is. */
async function save(s: TestStack, recordings: Record<string, Recording>) {
  fs.mkdirSync(OUT, { recursive: true });
  for (const [name, { workflowId, runId }] of Object.entries(recordings)) {
    const file = path.join(OUT, `${name}.json`);
    if (fs.existsSync(file)) {
      console.log(`kept    ${name}.json (recorded before)`);
      continue;
    }
    const history = await s.t.client.workflow.getHandle(workflowId, runId).fetchHistory();
    // protobufjs' own object form (enums by name, 64-bit numbers and bytes as strings): History.fromObject reads it back.
    const json = temporal.api.history.v1.History.toObject(temporal.api.history.v1.History.fromObject(history), { enums: String, longs: String, bytes: String, json: true });
    fs.writeFileSync(file, `${JSON.stringify(json, null, 1)}\n`, { flag: 'wx' });
    console.log(`written ${name}.json: ${history.events?.length ?? 0} events`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

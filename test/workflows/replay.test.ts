import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { INVOICE_WORKFLOW_REVISION } from '../../workflows/invoiceLifecycle';
import { PAYMENT_WORKFLOW_REVISION } from '../../workflows/portalPayment';

// Determinism guard: the histories of real runs (recorded by scripts/record-histories.ts against the sandboxes) must
// replay against the current workflow bundle. A change that alters the commands a recorded run issued fails here and
// must be guarded with patched() instead.

const DIR = path.resolve(__dirname, '../fixtures/histories');
const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
const load = (file: string) => temporal.api.history.v1.History.fromObject(JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8')));
/** The recorded run's input (its first event's first payload). */
const inputOf = (history: temporal.api.history.v1.IHistory) =>
  JSON.parse(Buffer.from(history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!.data!).toString());
/** The result the recorded run completed with. */
const resultOf = (history: temporal.api.history.v1.IHistory) =>
  JSON.parse(Buffer.from(history.events!.at(-1)!.workflowExecutionCompletedEventAttributes!.result!.payloads![0]!.data!).toString());
const bundle = () => ({ workflowBundle: { codePath: process.env.ARSYNC_WORKFLOW_BUNDLE! } });

describe('replay of recorded histories', () => {
  it('covers the invoice, customer, subscription and payment workflows', () => {
    const types = files.map((f) => load(f).events![0]!.workflowExecutionStartedEventAttributes!.workflowType!.name);
    expect(new Set(types)).toEqual(new Set(['invoiceLifecycle', 'customer', 'bcSubscription', 'portalPayment']));
  });

  it('holds runs of the current invoice revision (record them when the revision changes)', () => {
    const current = load(`invoice-happy-path.r${INVOICE_WORKFLOW_REVISION}.json`);
    expect(inputOf(current).revision).toBe(INVOICE_WORKFLOW_REVISION);
  });

  it('holds runs of the current payment revision (record them when the revision changes)', () => {
    const current = load(`payment-card-posted.p${PAYMENT_WORKFLOW_REVISION}.json`);
    expect(inputOf(current).revision).toBe(PAYMENT_WORKFLOW_REVISION);
  });

  it('the recordings of the current revisions took the paths they are named for', () => {
    const P = PAYMENT_WORKFLOW_REVISION;
    // A card payment posted: applied to its invoice, the gateway fee to the fee account, no decision.
    const card = load(`payment-card-posted.p${P}.json`);
    expect(inputOf(card).repost).toBeUndefined();
    expect(resultOf(card)).toMatchObject({ stage: 'posted', attention: null, decisions: [] });
    expect(resultOf(card).plan.parts.map((p: { kind: string }) => p.kind).sort()).toEqual(['applied', 'fee']);

    // Parked for finance (unknown_invoice), resolved by an Update (apply_to_invoice), then posted.
    const resolved = load(`payment-resolved.p${P}.json`);
    const accepted = resolved.events!.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
    expect(accepted.map((e) => e.workflowExecutionUpdateAcceptedEventAttributes!.acceptedRequest!.input!.name)).toEqual(['resolvePayment']);
    expect(resultOf(resolved)).toMatchObject({ stage: 'posted', decisions: [expect.objectContaining({ action: 'apply_to_invoice' })] });

    // Skipped for an invoice closed in the ERP; finance's resolve started the re-post run, which posted it unapplied.
    const skipped = load(`payment-skipped-closed.p${P}.json`);
    expect(resultOf(skipped)).toMatchObject({ stage: 'skipped', attention: { reason: 'closed_invoice' } });
    const repost = load(`payment-repost.p${P}.json`);
    expect(inputOf(repost)).toMatchObject({ revision: P, repost: { resolution: { action: 'post_unapplied' }, stage: 'skipped', reason: 'closed_invoice' } });
    expect(inputOf(repost).paymentId).toBe(inputOf(skipped).paymentId);
    expect(resultOf(repost)).toMatchObject({ stage: 'posted', repostOf: { stage: 'skipped', reason: 'closed_invoice' } });

    // An invoice run that ended at posted, reopened by the ERP (a payment unapplied), then credited in full.
    const reopened = load(`invoice-reopened.r${INVOICE_WORKFLOW_REVISION}.json`);
    expect(inputOf(reopened)).toMatchObject({ revision: INVOICE_WORKFLOW_REVISION, reopen: { why: expect.stringMatching(/due again/) } });
    expect(resultOf(reopened)).toMatchObject({ stage: 'cancelled', cancelled: true });
  });

  it('every recorded history replays against the current bundle without non-determinism', async () => {
    const results: Array<[string, string | null]> = [];
    const histories = files.map((f) => ({ workflowId: f, history: load(f) }));
    for await (const r of Worker.runReplayHistories(bundle(), histories)) results.push([r.workflowId, r.error ? String(r.error) : null]);
    expect(results).toEqual(files.map((f) => [f, null]));
  });

  it('replays a payment run of revision 4 in which finance decided again while the first decision was applied', async () => {
    // payment-decision-while-applying.json: an unknown payment, retried by finance; a skip accepted while the retry's
    // read ran was taken by the next wait, and the run ended skipped (recorded with the build before revision 5).
    const history = load('payment-decision-while-applying.json');
    expect(inputOf(history).revision).toBe(4);
    const updates = history.events!.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
    expect(updates).toHaveLength(2);
    await expect(Worker.runReplayHistory(bundle(), history, 'decision-while-applying')).resolves.toBeUndefined();
  });

  it('fails when the workflow code no longer issues the recorded commands', async () => {
    // The recorded run scheduled loadErpInvoice first; pretend it scheduled something else.
    const history = load('invoice-happy-path.json');
    const first = history.events!.find((e) => e.activityTaskScheduledEventAttributes)!;
    first.activityTaskScheduledEventAttributes!.activityType!.name = 'loadSomethingElse';
    await expect(Worker.runReplayHistory(bundle(), history, 'tampered')).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { INVOICE_WORKFLOW_REVISION } from '../../workflows/invoiceLifecycle';

// Determinism guard: the histories of real runs (recorded by scripts/record-histories.ts against the sandboxes) must
// replay against the current workflow bundle. A change that alters the commands a recorded run issued fails here and
// must be guarded with patched() instead.

const DIR = path.resolve(__dirname, '../fixtures/histories');
const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
const load = (file: string) => temporal.api.history.v1.History.fromObject(JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8')));
const bundle = () => ({ workflowBundle: { codePath: process.env.ARSYNC_WORKFLOW_BUNDLE! } });

describe('replay of recorded histories', () => {
  it('covers the invoice, customer, subscription and payment workflows', () => {
    const types = files.map((f) => load(f).events![0]!.workflowExecutionStartedEventAttributes!.workflowType!.name);
    expect(new Set(types)).toEqual(new Set(['invoiceLifecycle', 'customer', 'bcSubscription', 'portalPayment']));
  });

  it('holds runs of the current invoice revision (record them when the revision changes)', () => {
    const current = load(`invoice-happy-path.r${INVOICE_WORKFLOW_REVISION}.json`);
    const input = JSON.parse(Buffer.from(current.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!.data!).toString());
    expect(input.revision).toBe(INVOICE_WORKFLOW_REVISION);
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
    const input = JSON.parse(Buffer.from(history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!.data!).toString());
    expect(input.revision).toBe(4);
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

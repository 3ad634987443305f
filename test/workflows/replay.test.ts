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
  it('covers the invoice, customer and subscription workflows', () => {
    const types = files.map((f) => load(f).events![0]!.workflowExecutionStartedEventAttributes!.workflowType!.name);
    expect(new Set(types)).toEqual(new Set(['invoiceLifecycle', 'customer', 'bcSubscription']));
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

  it('fails when the workflow code no longer issues the recorded commands', async () => {
    // The recorded run scheduled loadErpInvoice first; pretend it scheduled something else.
    const history = load('invoice-happy-path.json');
    const first = history.events!.find((e) => e.activityTaskScheduledEventAttributes)!;
    first.activityTaskScheduledEventAttributes!.activityType!.name = 'loadSomethingElse';
    await expect(Worker.runReplayHistory(bundle(), history, 'tampered')).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});

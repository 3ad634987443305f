import Long from 'long';
import { WorkflowIdReusePolicy } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/searchAttributes';
import { listCustomSearchAttributes, registerSearchAttributes } from '../../src/temporal/setup';
import { connectTemporal, createTestWorker, testEnv, uniqueTaskQueue, type TestTemporal } from '../support/temporal';
import { systemCheck } from '../../workflows';

let t: TestTemporal;
beforeAll(async () => {
  t = await connectTemporal();
});
afterAll(async () => {
  await t?.close();
});

describe('Temporal wiring', () => {
  it('has the project search attributes registered on the server', async () => {
    const attrs = await listCustomSearchAttributes(t.client, testEnv().TEMPORAL_NAMESPACE);
    for (const key of SEARCH_ATTRIBUTES) expect(Object.keys(attrs)).toContain(key.name);
  });

  it('registers the search attributes on a namespace that lacks them, idempotently', async () => {
    const namespace = `arsync-setup-${Date.now()}`;
    await t.client.connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: { seconds: Long.fromNumber(86400) },
    });
    // Namespace registration is eventually visible.
    for (let i = 0; i < 50; i++) {
      try {
        await t.client.connection.workflowService.describeNamespace({ namespace });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const added = await registerSearchAttributes(t.client, namespace);
    expect(added.sort()).toEqual(SEARCH_ATTRIBUTES.map((k) => k.name).sort());
    expect(await registerSearchAttributes(t.client, namespace)).toEqual([]);
  });

  it('runs a workflow started by the client factory on a worker built by the worker factory', async () => {
    const taskQueue = uniqueTaskQueue();
    const worker = await createTestWorker(t, taskQueue);
    const workflowId = `system-check-${taskQueue}`;
    const result = await worker.runUntil(
      t.client.workflow.execute(systemCheck, { taskQueue, workflowId, workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE }),
    );
    expect(result.workflowId).toBe(workflowId);
    expect(result.taskQueue).toBe(taskQueue);
    expect(result.worker.pid).toBe(process.pid);
    expect(result.worker.activities).toContain('describeWorker');
    const history = await t.client.workflow.getHandle(workflowId).fetchHistory();
    const scheduled = history.events?.filter((e) => e.activityTaskScheduledEventAttributes) ?? [];
    expect(scheduled.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)).toEqual(['describeWorker']);
  });
});

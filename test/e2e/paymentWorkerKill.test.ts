import { temporal } from '@temporalio/proto';
import { parseDecimal } from '../../src/domain/money';
import { eventually } from '../support/stack';
import { postingTaskQueue } from '../../workflows/ids';
import { ledger, payInFull, paymentAt, paymentRuns, postErpInvoice, postingAttempts, postingSchedules, startKillableStack, unpostedLines, type KillableStack } from './paymentFixtures';

// The worker runs as its own process (workers/main.ts) against this test's sandboxes, reaching the ERP through a proxy
// that can hold chosen calls. It is SIGKILLed in the middle of an activity, then started again:
// - after writing the payments' journal lines and before posting them: every payment ends with exactly one posting
//   and nothing is left in the batch;
// - while a payment's intake waits for the ERP: the lost attempt is retried once its heartbeats stop (10 s), not
//   after its whole start-to-close timeout, and the payment is posted once.

let k: KillableStack;
beforeAll(async () => {
  k = await startKillableStack();
}, 60000);
afterAll(async () => {
  await k?.close();
});

it('SIGKILL between creating the journal lines and posting them: exactly one posting per payment after a restart', async () => {
  const { s, proxy } = k;
  const invoices = await Promise.all(['41.00', '42.00', '43.00'].map((a) => postErpInvoice(s, 'C10000', a)));
  proxy.holdPosts = true;
  const paid = await payInFull(s, invoices);
  // The poster wrote lines and is stuck in the post call: the lines sit unposted in the batch.
  const lines = await eventually(async () => {
    const l = await unpostedLines(s);
    return proxy.held > 0 && l.length > 0 && l;
  }, 20000, 'journal lines written and the post held');
  expect(lines.every((l) => paid.some((p) => p.paymentId === l.externalDocumentNumber))).toBe(true);
  expect(paid.every((p) => ledger(s, p.paymentId).length === 0)).toBe(true);

  await k.killAndRestart(() => {
    proxy.holdPosts = false;
  });

  for (const p of paid) {
    // Posted by this run, or found already posted in the ERP by a later look (the restarted poster may win the race):
    // either way the ledger below must hold exactly one entry.
    const state = await paymentAt(s, p.paymentId, 'posted', 45000);
    expect(state.stage).toBe('posted');
    const entries = ledger(s, p.paymentId);
    expect(entries).toHaveLength(1);
    expect(parseDecimal(entries[0]!.amount, 'USD')).toBe(-p.inv.totalMinor);
  }
  expect(await unpostedLines(s)).toEqual([]);
  // The interrupted group was retried by the new process (after the heartbeat timeout), reusing its lines.
  expect(Math.max(...(await postingAttempts(s)))).toBeGreaterThan(1);
  // On the posting task queue, where no backlog of other activities can hold it up, retried every 2 s at most.
  const schedules = await postingSchedules(s);
  expect(schedules.queues).toEqual([postingTaskQueue(s.config.env.TEMPORAL_TASK_QUEUE)]);
  expect(schedules.maxRetryIntervalsSec).toEqual([2]);
}, 60000);

it('SIGKILL while a payment intake waits for the ERP: retried after the heartbeat timeout, posted once', async () => {
  const { s, proxy } = k;
  const [inv] = await Promise.all(['44.00'].map((a) => postErpInvoice(s, 'C10000', a)));
  // The intake's read of the payment's posting state (ledger entries by external document number) never comes back.
  const heldBefore = proxy.held;
  proxy.holdGets = /customerLedgerEntries.*externalDocumentNumber/;
  const [paid] = await payInFull(s, [inv!]);
  await eventually(() => proxy.held > heldBefore, 20000, 'the intake read held');
  // Long enough for the lost attempt to have heartbeated: it must be its heartbeats that stop, not a first one missed.
  await new Promise((r) => setTimeout(r, 3000));

  const killedAt = Date.now();
  await k.killAndRestart(() => {
    proxy.holdGets = null;
  });
  await paymentAt(s, paid!.paymentId, 'posted', 45000);
  const entries = ledger(s, paid!.paymentId);
  expect(entries).toHaveLength(1);
  expect(parseDecimal(entries[0]!.amount, 'USD')).toBe(-paid!.inv.totalMinor);

  // The intake's completed attempt follows one that timed out on its heartbeat, soon after the kill.
  const [run] = await paymentRuns(s, paid!.paymentId);
  const events = (await s.t.client.workflow.getHandle(run!.workflowId, run!.runId).fetchHistory()).events ?? [];
  const intake = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'resolvePaymentContext');
  const started = events.find((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(intake?.eventId));
  const attrs = started!.activityTaskStartedEventAttributes!;
  expect(attrs.attempt).toBeGreaterThan(1);
  expect(attrs.lastFailure?.timeoutFailureInfo?.timeoutType).toBe(temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT);
  const retriedAt = Number(started!.eventTime!.seconds) * 1000 + Math.floor((started!.eventTime!.nanos ?? 0) / 1e6);
  // Heartbeat timeout (10 s) and the first retry interval (1 s) after the kill, with room for a busy machine; the old
  // 30-second start-to-close timeout would not have let it go before 30 s after the attempt started.
  expect(retriedAt - killedAt).toBeLessThan(20000);
  // Its retries back off to 10 s at most (not a minute), so a payment goes on within seconds of an outage's end.
  expect(Number(intake!.activityTaskScheduledEventAttributes!.retryPolicy!.maximumInterval!.seconds)).toBe(10);
}, 90000);

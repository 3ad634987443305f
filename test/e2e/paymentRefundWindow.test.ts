import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Activities } from '../../activities';
import type { JournalPostRequest } from '../../activities/journalTypes';
import type { MatchablePayment, PaymentContext } from '../../activities/paymentTypes';
import { arbitrateAdjustment, type MatchLedgerEntry } from '../../workflows/adjustmentArbiter';
import { journalPosted } from '../../workflows/journalPoster';
import { adjustmentPaired, paymentObserved, portalPayment } from '../../workflows/portalPayment';
import { useTimeSkipping } from '../support/timeSkipping';

// The refund-versus-adjustment wait of the portal payment workflow on Temporal's time-skipping test server, with the
// production default window (10 minutes): the workflow's timer, not the wall clock, decides when an unmatched negative
// payment becomes a refund. Activities are stand-ins; the pairing rule is the real arbiter's.

const WINDOW_MS = 10 * 60_000;
let env!: TestWorkflowEnvironment;
useTimeSkipping((e) => (env = e));

function harness(startMs: number) {
  const ledger: MatchLedgerEntry[] = [];
  const submitted: JournalPostRequest[] = [];
  const context = (paymentId: string): PaymentContext => ({
    paymentId,
    connectionKey: 'default',
    amountMinor: -5000,
    refundedMinor: 0,
    currency: 'USD',
    date: '2026-01-15',
    createdAtMs: startMs,
    portalStatus: 'completed',
    origin: 'portal',
    portalClientId: 'client-1',
    customerNumber: 'C10000',
    allocations: [],
    invoiceNumbers: [],
    methodCode: null,
    erp: { posted: false, postedMinor: 0, reversed: false, reversedMinor: 0, reversals: 0, customerNumber: null, lines: [] },
  });
  const activities: Partial<Activities> = {
    async resolvePaymentContext({ paymentId }) {
      return context(paymentId);
    },
    async matchAdjustment({ payment }: { payment: MatchablePayment }) {
      // The server's (skipped) clock, as the customer workflow would see it.
      return arbitrateAdjustment(ledger, payment, WINDOW_MS, Context.current().info.currentAttemptScheduledTimestampMs).answer;
    },
    async findErpPosting() {
      return { posted: false, postedMinor: 0, reversed: false, reversedMinor: 0, reversals: 0, customerNumber: null, lines: [] };
    },
    async enqueueJournalPosting({ request, requestId, replyTo }) {
      // The journal poster's part: post, and answer the requester by signal.
      submitted.push(request);
      const result = { externalDocumentNumber: request.externalDocumentNumber, status: 'posted' as const, entries: [], invoiceRemaining: {} };
      await env.client.workflow.getHandle(replyTo).signal(journalPosted, { requestId, result });
    },
    async notifyStaffOfPayment() {},
  };
  return { activities, submitted };
}

async function run<T>(activities: Partial<Activities>, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `refund-window-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: process.env.ARSYNC_WORKFLOW_BUNDLE! },
    activities,
  });
  return worker.runUntil(fn(taskQueue));
}

describe('the adjustment window on workflow time', () => {
  it('an unmatched negative payment waits out the 10-minute window, then is refunded to the customer', async () => {
    const startMs = await env.currentTimeMs();
    const { activities, submitted } = harness(startMs);
    const realStart = Date.now();
    const result = await run(activities, async (taskQueue) => {
      const handle = await env.client.workflow.signalWithStart(portalPayment, {
        taskQueue,
        workflowId: `payment:default:neg-${randomUUID()}`,
        args: [{ companyId: 'company', connectionKey: 'default', paymentId: 'NEG1' }],
        signal: paymentObserved,
        signalArgs: [{ source: 'webhook', updatedAt: Math.floor(startMs / 1000) }],
      });
      return handle.result();
    });
    expect(result.stage).toBe('refunded');
    expect(submitted).toEqual([
      expect.objectContaining({
        externalDocumentNumber: 'NEG1',
        lines: [expect.objectContaining({ kind: 'refund', customerNumber: 'C10000', amountMinor: 5000 })],
      }),
    ]);
    // Decided on workflow time, once the window had passed.
    const decided = Date.parse(result.decisions.find((d) => d.action === 'refund')!.at);
    expect(decided - startMs).toBeGreaterThanOrEqual(WINDOW_MS);
    expect(Date.now() - realStart).toBeLessThan(20000);
  });

  it('a partner arriving within the window makes it an adjustment: nothing is posted', async () => {
    const startMs = await env.currentTimeMs();
    const { activities, submitted } = harness(startMs);
    const result = await run(activities, async (taskQueue) => {
      const handle = await env.client.workflow.signalWithStart(portalPayment, {
        taskQueue,
        workflowId: `payment:default:neg-${randomUUID()}`,
        args: [{ companyId: 'company', connectionKey: 'default', paymentId: 'NEG2' }],
        signal: paymentObserved,
        signalArgs: [{ source: 'poll', updatedAt: Math.floor(startMs / 1000) }],
      });
      await env.sleep(5 * 60_000);
      await handle.signal(adjustmentPaired, { partnerPaymentId: 'POS2' });
      return handle.result();
    });
    expect(result.stage).toBe('adjusted');
    expect(result.adjustmentPartner).toBe('POS2');
    expect(submitted).toEqual([]);
    const decided = Date.parse(result.decisions.find((d) => d.action === 'treat_as_adjustment')!.at);
    expect(decided - startMs).toBeGreaterThanOrEqual(5 * 60_000);
    expect(decided - startMs).toBeLessThan(WINDOW_MS);
  });
});

import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Activities } from '../../activities';
import type { JournalPostRequest, JournalPostResult } from '../../activities/journalTypes';
import type { PaymentContext } from '../../activities/paymentTypes';
import { journalPosted } from '../../workflows/journalPoster';
import { adjustmentPaired, paymentObserved, paymentStateQuery, resolvePayment, type PaymentState } from '../../workflows/portalPayment';
import { useTimeSkipping } from '../support/timeSkipping';
import { PAYMENT_SETTINGS, portalPaymentContext, withPaymentRun } from '../support/paymentStubs';
import { sleep } from '../support/wait';

// Finance's waits that a path cannot leave in needs_attention: a run parked again after a skip never spins (one
// activity after another with no wait), and a refused reversal of a payment paired after posting waits for finance.
// Activities are stand-ins.

let env!: TestWorkflowEnvironment;
useTimeSkipping((e) => (env = e));

const settings = PAYMENT_SETTINGS;

/** A journal that answers each request with `answer(request, n)` (n from 1); `submitted` lists the requests. */
function journal(answer: (request: JournalPostRequest, n: number) => JournalPostResult, before?: (replyTo: string) => Promise<void>) {
  const submitted: JournalPostRequest[] = [];
  const activities: Pick<Activities, 'enqueueJournalPosting'> = {
    async enqueueJournalPosting({ request, requestId, replyTo }) {
      submitted.push(request);
      if (before) await before(replyTo);
      await env.client.workflow.getHandle(replyTo).signal(journalPosted, { requestId, result: answer(request, submitted.length) });
    },
  };
  return { submitted, activities };
}

const posted = (request: JournalPostRequest): JournalPostResult => ({ externalDocumentNumber: request.externalDocumentNumber, status: 'posted', entries: [], invoiceRemaining: {} });
const refused = (request: JournalPostRequest): JournalPostResult => ({ externalDocumentNumber: request.externalDocumentNumber, status: 'rejected', code: 'blocked', message: 'Customer C10000 is blocked' });

async function untilStage(handle: { query: (q: typeof paymentStateQuery) => Promise<PaymentState> }, stage: PaymentState['stage'], attempt: number): Promise<PaymentState | undefined> {
  let state: PaymentState | undefined;
  for (const until = Date.now() + 8000; Date.now() < until; await sleep(100)) {
    state = await handle.query(paymentStateQuery);
    if (state.stage === stage && state.decisions.filter((d) => d.by === 'finance').length === attempt) return state;
  }
  return state;
}

describe('a payment finance skipped, parked again and retried', () => {
  // 1st read: the portal does not know the payment (finance skips). 2nd: it is there, posted and refunded since, and
  // the ERP refuses the reversal (finance retries). 3rd: `third` (unknown again, or unposted: the skip holds).
  const cases: Array<[string, () => PaymentContext]> = [
    [
      'a read that finds the payment unknown again',
      () => {
        throw ApplicationFailure.nonRetryable('payment not found', 'invoice-ninja:not_found');
      },
    ],
    [
      'a read the skip still holds for',
      () => portalPaymentContext({ amountMinor: 10000, erp: { posted: false, postedMinor: 0, reversed: false, reversedMinor: 0, reversals: 0, customerNumber: null, lines: [] }, noPartnerWaiting: true }),
    ],
  ];
  it.each(cases)('ends skipped after %s, with a bounded number of activities', async (_name, third) => {
    let reads = 0;
    const { submitted, activities: journalActs } = journal(refused);
    const activities: Partial<Activities> = {
      async resolvePaymentContext() {
        reads++;
        if (reads === 1) throw ApplicationFailure.nonRetryable('payment not found', 'invoice-ninja:not_found');
        if (reads === 2) {
          return portalPaymentContext({
            amountMinor: 10000,
            refundedMinor: 10000,
            portalStatus: 'refunded',
            erp: { posted: true, postedMinor: 10000, reversed: false, reversedMinor: 0, reversals: 0, customerNumber: 'C10000', lines: [{ amountMinor: 10000, invoiceNumber: 'INV1' }] },
          });
        }
        return third();
      },
      ...journalActs,
      async notifyStaffOfPayment() {},
    };
    const outcome = await withPaymentRun(env, activities, { taskQueue: 'attention-loop', revision: 5 }, async (handle) => {
      expect((await untilStage(handle, 'needs_attention', 0))?.attention?.reason).toBe('unknown_payment');
      // The portal changed the payment while it waited: the skip is followed by one more read.
      await handle.signal(paymentObserved, { source: 'webhook', updatedAt: 2, event: 'update_payment' });
      await handle.executeUpdate(resolvePayment, { args: [{ action: 'skip', by: 'finance', why: 'not in the portal' }] });
      expect((await untilStage(handle, 'needs_attention', 1))?.attention?.reason).toBe('erp_rejected');
      await handle.executeUpdate(resolvePayment, { args: [{ action: 'retry', by: 'finance', why: 'customer unblocked' }] });
      // A spinning run would read on and on: give it time to show.
      await sleep(3000);
      const state = await handle.query(paymentStateQuery);
      const history = await handle.fetchHistory();
      const activitiesRun = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes).length;
      const result = await Promise.race([handle.result(), sleep(2000).then(() => undefined)]);
      if (!result) await handle.terminate('test over');
      return { state, activitiesRun, result };
    });
    expect(outcome.activitiesRun).toBeLessThanOrEqual(8);
    expect(outcome.result?.stage).toBe('skipped');
    expect(reads).toBe(3);
    expect(submitted.map((r) => r.externalDocumentNumber)).toEqual(['POS1-R']);
  });
});

describe('a positive payment paired after it was posted, whose reversal the ERP refuses', () => {
  it('waits for finance (retry or skip only) and, retried, reverses its posting and ends adjusted', async () => {
    const context = portalPaymentContext({
      amountMinor: 10000,
      erp: { posted: false, postedMinor: 0, reversed: false, reversedMinor: 0, reversals: 0, customerNumber: null, lines: [] },
      erpInvoices: { invoices: [{ number: 'INV1', customerNumber: 'C10000', currency: 'USD', remainingMinor: 10000, status: 'open' }], settings },
      noPartnerWaiting: true,
    });
    // The negative partner pairs while the posting is on its way; the first reversal is refused.
    const { submitted, activities: journalActs } = journal(
      (request, n) => (n === 2 ? refused(request) : posted(request)),
      async (replyTo) => {
        if (submitted.length === 1) await env.client.workflow.getHandle(replyTo).signal(adjustmentPaired, { partnerPaymentId: 'NEG1' });
      },
    );
    const activities: Partial<Activities> = {
      async resolvePaymentContext() {
        return context;
      },
      async lookupErpInvoices() {
        return { invoices: context.erpInvoices!.invoices, settings };
      },
      async findErpPosting() {
        return { posted: true, postedMinor: 10000, reversed: false, reversedMinor: 0, reversals: 0, customerNumber: 'C10000', lines: [{ amountMinor: 10000, invoiceNumber: 'INV1' }] };
      },
      ...journalActs,
      async notifyStaffOfPayment() {},
    };
    const result = await withPaymentRun(env, activities, { taskQueue: 'adjustment-refused', revision: 5 }, async (handle) => {
      const parked = await untilStage(handle, 'needs_attention', 0);
      expect(parked?.attention).toEqual({ reason: 'erp_rejected', detail: expect.stringContaining('reversal for the adjustment with NEG1: blocked') });
      // What a refused application takes would not be carried out here.
      await expect(handle.executeUpdate(resolvePayment, { args: [{ action: 'post_unapplied', by: 'finance', why: 'try' }] })).rejects.toMatchObject({ cause: { message: expect.stringContaining('allowed: retry, skip') } });
      await handle.executeUpdate(resolvePayment, { args: [{ action: 'retry', by: 'finance', why: 'customer unblocked' }] });
      return handle.result();
    });
    expect(submitted.map((r) => r.externalDocumentNumber)).toEqual(['POS1', 'POS1-R', 'POS1-R']);
    expect(submitted[2].lines).toEqual([expect.objectContaining({ kind: 'reversal', amountMinor: 10000, description: expect.stringContaining('adjustment with portal payment NEG1') })]);
    expect(result.stage).toBe('adjusted');
    expect(result.attention).toBeNull();
    expect(result.adjustmentPartner).toBe('NEG1');
  });
});

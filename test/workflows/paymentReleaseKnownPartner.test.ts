import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Activities } from '../../activities';
import type { ErpPostingState } from '../../activities/paymentTypes';
import { paymentObserved } from '../../workflows/portalPayment';
import { useTimeSkipping } from '../support/timeSkipping';
import { portalPaymentContext, postingJournal, withPaymentRun } from '../support/paymentStubs';

// A negative payment adjusted against a posted positive one, then voided in the portal, where the customer's arbiter no
// longer remembers the pair (pruned, or a pair finance forced): the partner the run paired with goes with the release,
// so the pair's reversal is taken back all the same. Activities are stand-ins.

let env!: TestWorkflowEnvironment;
useTimeSkipping((e) => (env = e));

const unposted: ErpPostingState = { posted: false, postedMinor: 0, reversed: false, reversedMinor: 0, reversals: 0, customerNumber: null, lines: [] };

it('takes back the reversal of the partner the run paired with when the arbiter answers no partner', async () => {
  const journal = postingJournal(env);
  const workflowId = `payment:default:release-${randomUUID()}`;
  const negative = { paymentId: 'NEG1', amountMinor: -5000, erp: unposted, allocations: [], invoiceNumbers: [] };
  let reads = 0;
  const releases: Array<{ paymentId: string; partnerPaymentId?: string }> = [];
  const activities: Partial<Activities> = {
    async resolvePaymentContext() {
      reads++;
      if (reads === 1) {
        // Voided while the adjustment is made: the run looks again.
        await env.client.workflow.getHandle(workflowId).signal(paymentObserved, { source: 'webhook', updatedAt: 2, event: 'delete_payment' });
        return portalPaymentContext(negative);
      }
      return portalPaymentContext({ ...negative, portalStatus: 'voided', updatedAtSec: 2 });
    },
    async matchAdjustment() {
      return { decision: 'adjustment', partnerPaymentId: 'POS9' };
    },
    async findErpPosting() {
      return { posted: true, postedMinor: 5000, reversed: false, reversedMinor: 0, reversals: 0, customerNumber: 'C10000', lines: [{ amountMinor: 5000, invoiceNumber: null }] };
    },
    // The arbiter has forgotten the pair: only the partner sent with the ask is known (as the activity answers).
    async releaseAdjustment(input) {
      releases.push({ paymentId: input.paymentId, ...(input.partnerPaymentId ? { partnerPaymentId: input.partnerPaymentId } : {}) });
      return input.partnerPaymentId
        ? { partnerPaymentId: input.partnerPaymentId, reversedMinor: 5000, customerNumber: 'C10000', partnerPosted: true, takeBackKey: `${input.partnerPaymentId}-R2` }
        : { partnerPaymentId: null, reversedMinor: 0, customerNumber: null, partnerPosted: false };
    },
    ...journal.activities,
    async notifyStaffOfPayment() {},
  };
  const result = await withPaymentRun(env, activities, { taskQueue: 'release', workflowId, paymentId: 'NEG1', revision: 5 }, async (handle) => {
    return handle.result();
  });
  expect(releases).toEqual([{ paymentId: 'NEG1', partnerPaymentId: 'POS9' }]);
  expect(journal.submitted.map((r) => r.externalDocumentNumber)).toEqual(['POS9-R', 'POS9-R2']);
  expect(journal.submitted[1]!.lines).toEqual([expect.objectContaining({ kind: 'refund_reversal', amountMinor: 5000, customerNumber: 'C10000' })]);
  expect(result.stage).toBe('skipped');
  expect(result.adjustmentPartner).toBe('POS9');
});

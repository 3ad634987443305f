import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Activities } from '../../activities';
import type { ErpPostingState, PaymentContext } from '../../activities/paymentTypes';
import { paymentObserved } from '../../workflows/portalPayment';
import { useTimeSkipping } from '../support/timeSkipping';
import { portalPaymentContext, postingJournal, withPaymentRun } from '../support/paymentStubs';

// Invoice Ninja deletes a voided payment's links to its invoices: a read after the void has no invoices. The reversal
// still tells the invoices the payment was on (from the run's earlier read). Activities
// are stand-ins.

let env!: TestWorkflowEnvironment;
useTimeSkipping((e) => (env = e));

const erp: ErpPostingState = { posted: true, postedMinor: 10000, reversed: false, reversedMinor: 0, reversals: 0, customerNumber: 'C10000', lines: [{ amountMinor: 10000, invoiceNumber: 'INV1' }] };
const completed = portalPaymentContext({ amountMinor: 10000, erp });
/** As the portal reads it after the void: no invoices. */
const voided = portalPaymentContext({ amountMinor: 10000, erp, portalStatus: 'voided', allocations: [], invoiceNumbers: [], updatedAtSec: 2 });

async function run(reads: PaymentContext[]) {
  const journal = postingJournal(env);
  const workflowId = `payment:default:void-${randomUUID()}`;
  let n = 0;
  const activities: Partial<Activities> = {
    async resolvePaymentContext() {
      const ctx = reads[Math.min(n++, reads.length - 1)];
      // The void arrives while the first read is on its way: the run looks again.
      if (n === 1 && reads.length > 1) await env.client.workflow.getHandle(workflowId).signal(paymentObserved, { source: 'webhook', updatedAt: 2, event: 'delete_payment' });
      return ctx;
    },
    ...journal.activities,
    async notifyStaffOfPayment() {},
  };
  return withPaymentRun(env, activities, { taskQueue: 'void-invoices', workflowId, revision: 5 }, async (handle) => {
    const result = await handle.result();
    const history = await handle.fetchHistory();
    const told = (history.events ?? []).flatMap((e) => (e.signalExternalWorkflowExecutionInitiatedEventAttributes ? [e.signalExternalWorkflowExecutionInitiatedEventAttributes.workflowExecution?.workflowId] : []));
    return { result, told, submitted: journal.submitted, reads: n };
  });
}

describe('a posted payment voided in the portal, read again with no invoices', () => {
  it('reverses its posting and tells the invoices of the earlier read', async () => {
    const { result, told, submitted, reads } = await run([completed, voided]);
    expect(reads).toBe(2);
    expect(submitted).toEqual([expect.objectContaining({ externalDocumentNumber: 'POS1-R', lines: [expect.objectContaining({ kind: 'reversal', amountMinor: 10000 })] })]);
    expect(result.stage).toBe('skipped');
    expect(told).toEqual(['invoice:company:INV1']);
    expect(result.context?.invoiceNumbers).toEqual(['INV1']);
  });
});

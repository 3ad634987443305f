import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Activities } from '../../activities';
import type { ErpPostingState } from '../../activities/paymentTypes';
import { paymentStateQuery, resolvePayment, type PaymentState, type portalPayment } from '../../workflows/portalPayment';
import { useTimeSkipping } from '../support/timeSkipping';
import { portalPaymentContext, postingJournal, withPaymentRun } from '../support/paymentStubs';
import { sleep } from '../support/wait';

// A posted payment with an excess on the fee account, refunded in the portal since: the reversal follows the posted
// parts (src/domain/reversal.ts) behind the `reverse-posted-parts` patch, and what the rule cannot decide waits for
// finance. Activities are stand-ins.

let env!: TestWorkflowEnvironment;
useTimeSkipping((e) => (env = e));

/** 100.00 posted as 70.00 to the customer and 30.00 to the fee account; 30.00 refunded in the portal. */
function stubs(erp: Partial<ErpPostingState>) {
  const journal = postingJournal(env);
  const context = portalPaymentContext({
    amountMinor: 10000,
    refundedMinor: 3000,
    portalStatus: 'partially_refunded',
    erp: {
      posted: true,
      postedMinor: 7000,
      reversed: false,
      reversedMinor: 0,
      reversals: 0,
      customerNumber: 'C10000',
      lines: [{ amountMinor: 7000, invoiceNumber: null }],
      general: { feeLines: [{ account: '65100', balancingAccount: '10200', amountMinor: 3000 }], feeReversedMinor: 0 },
      ...erp,
    },
  });
  const activities: Partial<Activities> = {
    async resolvePaymentContext() {
      return context;
    },
    ...journal.activities,
    async notifyStaffOfPayment() {},
  };
  return { activities, submitted: journal.submitted };
}

async function run(erp: Partial<ErpPostingState>, body: (h: WorkflowHandle<typeof portalPayment>) => Promise<void> = async () => undefined) {
  const { activities, submitted } = stubs(erp);
  // A run of the current revision: an older one also takes the invoices-listed patch with its first upsert.
  return withPaymentRun(env, activities, { taskQueue: 'parts-reversal', revision: 6, event: 'update_payment' }, async (handle) => {
    await body(handle);
    const result = await handle.result();
    const history = await handle.fetchHistory();
    const markers = (history.events ?? []).filter((e) => e.markerRecordedEventAttributes).length;
    return { result, submitted, markers };
  });
}

describe('a posted payment with a fee line, refunded in the portal', () => {
  it('reverses the refund on the fee account first, under <id>-R, and stays posted', async () => {
    const { result, submitted, markers } = await run({});
    expect(submitted).toEqual([
      expect.objectContaining({
        externalDocumentNumber: 'POS1-R',
        lines: [expect.objectContaining({ kind: 'fee_reversal', amountMinor: 3000, account: '65100', balancingAccount: '10200' })],
      }),
    ]);
    expect(result.stage).toBe('posted');
    expect(markers).toBe(1); // the patch marker, on this rare path only
  });

  it('parks what the rule cannot decide (the customer already debited for the refund) for finance, who settles it by hand', async () => {
    const { result, submitted } = await run({ reversed: true, reversedMinor: 3000, reversals: 1 }, async (handle) => {
      let parked: PaymentState | undefined;
      for (const until = Date.now() + 8000; parked?.stage !== 'needs_attention' && Date.now() < until; await sleep(100)) parked = await handle.query(paymentStateQuery);
      expect(parked?.attention).toEqual({ reason: 'unclear_reversal', detail: expect.stringContaining('more reversed') });
      await handle.executeUpdate(resolvePayment, { args: [{ action: 'skip', by: 'finance', why: 'fee reversed by hand' }] });
    });
    expect(submitted).toEqual([]);
    expect(result.stage).toBe('skipped');
  });
});

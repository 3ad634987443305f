import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Activities } from '../../activities';
import { netOfPaymentRefund } from '../../activities/intake';
import { paymentStateQuery, resolvePayment, type PaymentState } from '../../workflows/portalPayment';
import { useTimeSkipping } from '../support/timeSkipping';
import { PAYMENT_SETTINGS, portalPaymentContext, postingJournal, withPaymentRun } from '../support/paymentStubs';
import { sleep } from '../support/wait';

// A payment whose allocations the plan cannot take (bad input from the portal) is parked for finance with its reason,
// never left failing its workflow task (retried for ever, out of sight, the payment staged). Activities are stand-ins.

let env!: TestWorkflowEnvironment;
useTimeSkipping((e) => (env = e));

const settings = PAYMENT_SETTINGS;

function stubs() {
  const journal = postingJournal(env);
  // The portal allocates more than the payment holds (6,000 of it left, 8,000 allocated).
  const context = portalPaymentContext({
    amountMinor: 8000,
    refundedMinor: 2000,
    portalStatus: 'partially_refunded',
    erp: { posted: false, postedMinor: 0, reversed: false, reversedMinor: 0, reversals: 0, customerNumber: null, lines: [] },
    erpInvoices: { invoices: [{ number: 'INV1', customerNumber: 'C10000', currency: 'USD', remainingMinor: 8000, status: 'open' }], settings },
    noPartnerWaiting: true,
  });
  const activities: Partial<Activities> = {
    async resolvePaymentContext() {
      return context;
    },
    async lookupErpInvoices() {
      return { invoices: context.erpInvoices!.invoices, settings };
    },
    ...journal.activities,
    async notifyStaffOfPayment() {},
  };
  return { activities, submitted: journal.submitted };
}

describe('a plan the portal gave bad input for', () => {
  it('parks the payment as invalid_allocation; finance posts it unapplied', async () => {
    const { activities, submitted } = stubs();
    const result = await withPaymentRun(env, activities, { taskQueue: 'plan-guard', revision: 4 }, async (handle) => {
      // A workflow task failing for ever answers no query: each look is bounded.
      const look = () => Promise.race([handle.query(paymentStateQuery), sleep(2000).then(() => undefined)]).catch(() => undefined);
      let parked: PaymentState | undefined;
      for (const until = Date.now() + 8000; parked?.stage !== 'needs_attention' && Date.now() < until; ) {
        parked = await look();
        if (parked?.stage !== 'needs_attention') await sleep(100);
      }
      expect(parked?.attention).toEqual({ reason: 'invalid_allocation', detail: expect.stringContaining('more than the payment amount 6000') });
      expect(submitted).toEqual([]);
      await handle.executeUpdate(resolvePayment, { args: [{ action: 'post_unapplied', by: 'finance', why: 'portal allocation is wrong' }] });
      const history = await handle.fetchHistory();
      expect((history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
      return handle.result();
    });
    expect(result.stage).toBe('posted');
    expect(submitted).toEqual([expect.objectContaining({ externalDocumentNumber: 'POS1', lines: [expect.objectContaining({ kind: 'unapplied', amountMinor: 6000 })] })]);
  });
});

describe('a refund recorded on the payment alone', () => {
  it('comes off the unallocated part first, then off the allocations from the last one back', () => {
    expect(netOfPaymentRefund([5000, 3000], 8000)).toEqual([5000, 3000]);
    // 10,000 paid, 8,000 allocated, 3,000 refunded: 2,000 unallocated go first, then 1,000 off the last invoice.
    expect(netOfPaymentRefund([5000, 3000], 7000)).toEqual([5000, 2000]);
    expect(netOfPaymentRefund([5000, 3000], 2500)).toEqual([2500, 0]);
    expect(netOfPaymentRefund([5000, 3000], 0)).toEqual([0, 0]);
  });
});

import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Activities } from '../../activities';
import type { PaymentContext } from '../../activities/paymentTypes';
import { paymentStateQuery, portalPayment, resolvePayment } from '../../workflows/portalPayment';
import { useTimeSkipping } from '../support/timeSkipping';
import { PAYMENT_SETTINGS, portalPaymentContext, postingJournal, withPaymentRun } from '../support/paymentStubs';
import { eventually } from '../support/wait';

// A payment indexes each invoice it touches on its own (InvoiceNumbers) and its amount (PaymentAmount, Currency) in
// the upserts its stage changes make anyway: revision 6 with no patch marker, an older revision's run behind the
// `invoices-listed` patch. Activities are stand-ins.

let env!: TestWorkflowEnvironment;
useTimeSkipping((e) => (env = e));

const settings = PAYMENT_SETTINGS;
const unposted = { posted: false, postedMinor: 0, reversed: false, reversedMinor: 0, reversals: 0, customerNumber: null, lines: [] };
const open = (number: string, remainingMinor: number) => ({ number, customerNumber: 'C10000', currency: 'USD', remainingMinor, status: 'open' as const });

/** 150.00 USD to INV1 (100.00) and INV2 (50.00). */
const twoInvoices = portalPaymentContext({
  amountMinor: 15000,
  erp: unposted,
  allocations: [
    { invoiceNumber: 'INV1', amountMinor: 10000, feeMinor: 0 },
    { invoiceNumber: 'INV2', amountMinor: 5000, feeMinor: 0 },
  ],
  invoiceNumbers: ['INV1', 'INV2'],
  erpInvoices: { invoices: [open('INV1', 10000), open('INV2', 5000)], settings },
  noPartnerWaiting: true,
});

const decode = (p: { data?: Uint8Array | null } | null | undefined): unknown => (p?.data ? JSON.parse(Buffer.from(p.data).toString('utf8')) : null);

async function run(context: PaymentContext, revision: number, decide?: (handle: WorkflowHandle<typeof portalPayment>) => Promise<unknown>) {
  const journal = postingJournal(env);
  const activities: Partial<Activities> = {
    async resolvePaymentContext() {
      return context;
    },
    async lookupErpInvoices({ numbers }) {
      return { invoices: numbers.map((n) => open(n, 20000)).filter((i) => i.number !== 'INV9'), settings };
    },
    ...journal.activities,
    async notifyStaffOfPayment() {},
  };
  return withPaymentRun(env, activities, { taskQueue: 'invoices-listed', revision }, async (handle) => {
    if (decide) {
      await eventually(async () => (await handle.query(paymentStateQuery)).stage === 'needs_attention', 10000, 'needs_attention');
      await decide(handle);
    }
    const result = await handle.result();
    const events = (await handle.fetchHistory()).events ?? [];
    const upserts = events
      .map((e) => e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields)
      .filter((f): f is NonNullable<typeof f> => !!f)
      .map((f) => Object.fromEntries(Object.entries(f).map(([k, v]) => [k, decode(v)])));
    const markers = events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
    return { result, upserts, markers };
  });
}

/** The value each key had after the run's upserts, in order. */
const indexed = (upserts: Array<Record<string, unknown>>) => Object.assign({}, ...upserts) as Record<string, unknown>;

describe('what a payment indexes of its invoices and amount', () => {
  it('revision 6: each invoice on its own and the amount, in the upserts it makes anyway, no patch marker', async () => {
    const { result, upserts, markers } = await run(twoInvoices, 6);
    expect(result.stage).toBe('posted');
    expect(markers).toEqual([]);
    expect(indexed(upserts)).toMatchObject({ InvoiceNumber: 'INV1,INV2', InvoiceNumbers: ['INV1', 'INV2'], PaymentAmount: 15000, Currency: 'USD', Stage: 'posted' });
    // Indexed once, with the first upsert (applied), not again with posted.
    expect(upserts.filter((u) => 'InvoiceNumbers' in u)).toHaveLength(1);
    expect(upserts.filter((u) => 'PaymentAmount' in u)).toHaveLength(1);
    expect(upserts.every((u) => 'Stage' in u || 'TemporalChangeVersion' in u)).toBe(true);
  });

  it('revision 5 (a run started before): the same, behind the invoices-listed patch', async () => {
    const { result, upserts, markers } = await run(twoInvoices, 5);
    expect(result.stage).toBe('posted');
    expect(markers).toHaveLength(1);
    expect(indexed(upserts)).toMatchObject({ InvoiceNumbers: ['INV1', 'INV2'], PaymentAmount: 15000, Currency: 'USD', TemporalChangeVersion: ['invoices-listed'] });
  });

  it('an invoice finance applies the payment to is one it touches', async () => {
    const unknown = portalPaymentContext({
      amountMinor: 4000,
      erp: unposted,
      allocations: [{ invoiceNumber: 'INV9', amountMinor: 4000, feeMinor: 0 }],
      invoiceNumbers: ['INV9'],
      erpInvoices: { invoices: [], settings },
      noPartnerWaiting: true,
    });
    const { result, upserts } = await run(unknown, 6, (h) =>
      h.executeUpdate(resolvePayment, { args: [{ action: 'apply_to_invoice', invoiceNumber: 'INV3', by: 'finance', why: 'customer said so' }] }),
    );
    expect(result.stage).toBe('posted');
    expect(indexed(upserts)).toMatchObject({ InvoiceNumber: 'INV9', InvoiceNumbers: ['INV9', 'INV3'], PaymentAmount: 4000 });
  });
});

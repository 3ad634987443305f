import {
  allHandlersFinished,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { JournalPostResult } from '../activities/journalTypes';
import type { PaymentContext } from '../activities/paymentTypes';
import {
  planApplication,
  planOutcome,
  postableParts,
  type ApplicationPlan,
  type AttentionReason,
  type FinanceResolutions,
} from '../src/domain/application';
import type { PaymentStage } from '../src/domain/stages';
import { AttentionReason as AttentionReasonKey, CustomerNumber, InvoiceNumber, PortalPaymentId, Stage } from '../src/temporal/searchAttributes';
import { invoiceWorkflowId } from './ids';
import { paymentPostedSignal } from './invoiceMessages';

// One workflow per portal payment (id payment:<connection>:<portal payment id>), started or signalled with
// signal-with-start by the poller and the webhook endpoint alike. The portal is re-read on every observation, so
// duplicate and out-of-order deliveries change nothing; the ERP posting is keyed by the portal payment id, so a retry
// or a second run never posts twice.

export interface PaymentObservation {
  source: 'webhook' | 'poll' | 'manual';
  /** Invoice Ninja's updated_at (unix seconds) of what was observed. */
  updatedAt: number;
  event?: string;
}

export type ResolutionAction =
  | { action: 'apply_to_invoice'; invoiceNumber: string }
  | { action: 'post_unapplied' }
  | { action: 'treat_as_refund' }
  | { action: 'treat_as_adjustment'; partnerPaymentId: string }
  | { action: 'skip' }
  | { action: 'retry' };

export type Resolution = ResolutionAction & { by: string; why: string };

export interface PaymentDecision {
  at: string;
  by: string;
  why: string;
  action: string;
  detail?: string;
}

export interface PaymentState {
  connectionKey: string;
  paymentId: string;
  stage: PaymentStage;
  attention: { reason: AttentionReason; detail: string } | null;
  context: PaymentContext | null;
  plan: ApplicationPlan | null;
  posting: JournalPostResult | null;
  adjustmentPartner: string | null;
  decisions: PaymentDecision[];
  observations: number;
}

export const paymentObserved = defineSignal<[PaymentObservation]>('paymentObserved');
export const adjustmentPaired = defineSignal<[{ partnerPaymentId: string }]>('adjustmentPaired');
export const resolvePayment = defineUpdate<PaymentState, [Resolution]>('resolvePayment');
export const paymentStateQuery = defineQuery<PaymentState>('paymentState');

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute' },
});
// Posting waits in the journal poster's queue behind other payments: give it room, and let it retry for long.
const posting = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2 minutes' },
});

export interface PortalPaymentInput {
  companyId: string;
  connectionKey: string;
  paymentId: string;
}

export async function portalPayment(input: PortalPaymentInput): Promise<PaymentState> {
  const state: PaymentState = {
    connectionKey: input.connectionKey,
    paymentId: input.paymentId,
    stage: 'staged',
    attention: null,
    context: null,
    plan: null,
    posting: null,
    adjustmentPartner: null,
    decisions: [],
    observations: 0,
  };
  let lastSeen = -1;
  let newestObserved = -1;
  let resolution: Resolution | null = null;
  let pairedWith: string | null = null;

  setHandler(paymentObserved, (o) => {
    state.observations++;
    newestObserved = Math.max(newestObserved, o.updatedAt);
  });
  setHandler(adjustmentPaired, ({ partnerPaymentId }) => {
    pairedWith = partnerPaymentId;
  });
  setHandler(paymentStateQuery, () => state);
  setHandler(
    resolvePayment,
    async (r) => {
      resolution = r;
      state.decisions.push({ at: new Date().toISOString(), by: r.by, why: r.why, action: r.action, detail: describe(r) });
      await condition(() => resolution === null);
      return state;
    },
    { validator: (r) => validateResolution(state, r) },
  );

  const setStage = (stage: PaymentStage, attention: PaymentState['attention'] = null) => {
    if (stage === state.stage && attention?.reason === state.attention?.reason) return;
    state.stage = stage;
    state.attention = attention;
    upsertSearchAttributes([
      { key: Stage, value: stage },
      { key: AttentionReasonKey, value: attention ? attention.reason : null },
    ]);
  };
  const waitForFinance = async (reason: AttentionReason, detail: string): Promise<Resolution> => {
    setStage('needs_attention', { reason, detail });
    await acts.notifyStaffOfPayment({ paymentId: input.paymentId, connectionKey: input.connectionKey, kind: 'needs_attention', reason, detail });
    await condition(() => resolution !== null);
    return resolution!;
  };
  const finishResolution = () => {
    resolution = null;
  };

  upsertSearchAttributes([{ key: PortalPaymentId, value: input.paymentId }, { key: Stage, value: 'staged' }]);
  await condition(() => newestObserved >= 0);

  // 1. Staging: read the payment as the portal has it now; wait out pending bank payments.
  let ctx: PaymentContext;
  for (;;) {
    lastSeen = newestObserved;
    ctx = await acts.resolvePaymentContext({ companyId: input.companyId, connectionKey: input.connectionKey, paymentId: input.paymentId });
    state.context = ctx;
    if (ctx.customerNumber || ctx.invoiceNumbers.length) {
      upsertSearchAttributes([
        ...(ctx.customerNumber ? [{ key: CustomerNumber, value: ctx.customerNumber }] : []),
        ...(ctx.invoiceNumbers.length ? [{ key: InvoiceNumber, value: ctx.invoiceNumbers.join(',') }] : []),
      ]);
    }
    if (ctx.origin === 'erp') {
      // We recorded this payment in the portal from the ERP: posting it back would count it twice.
      state.decisions.push({ at: new Date().toISOString(), by: 'arsync', why: 'recorded from the ERP', action: 'skip' });
      setStage('skipped');
      return state;
    }
    if (ctx.erp.posted && (ctx.portalStatus === 'voided' || ctx.portalStatus === 'failed' || ctx.refundedMinor > ctx.erp.reversedMinor)) {
      await reverse(ctx);
      return state;
    }
    if (ctx.erp.posted) {
      // An earlier run (or attempt) posted it: nothing to do but report.
      setStage('posted');
      return state;
    }
    if (ctx.portalStatus === 'voided' || ctx.portalStatus === 'failed') {
      setStage('skipped', { reason: 'erp_rejected', detail: `portal payment ${ctx.portalStatus} before posting: nothing posted` });
      state.attention = null;
      upsertSearchAttributes([{ key: AttentionReasonKey, value: null }]);
      return state;
    }
    if (ctx.portalStatus !== 'pending') break;
    setStage('pending');
    // Bank payments settle in days: wake on the next observation, or re-read every 6 hours in case one was missed.
    await condition(() => newestObserved > lastSeen, '6 hours');
  }

  // 2. Classification: refund versus adjustment, by the customer's matching arbiter.
  if (ctx.amountMinor < 0) {
    const handled = await classifyNegative(ctx);
    if (handled) return finish();
  } else if (ctx.customerNumber) {
    const match = await acts.matchAdjustment({ companyId: input.companyId, customerNumber: ctx.customerNumber, connectionKey: input.connectionKey, payment: matchable(ctx) });
    if (match.decision === 'adjustment') {
      state.adjustmentPartner = match.partnerPaymentId;
      setStage('adjusted');
      return finish();
    }
  }
  setStage('classified');

  // 3. Application and posting, with finance in the loop when the rules cannot decide.
  const resolutions: FinanceResolutions = {};
  let override: ResolutionAction | null = null;
  for (;;) {
    const plan = await buildPlan(ctx, resolutions, override);
    state.plan = plan;
    const outcome = planOutcome(plan);
    if (outcome.stage === 'needs_attention') {
      const r = await waitForFinance(plan.attention!.reason, plan.attention!.detail);
      override = applyResolution(r, plan, resolutions);
      finishResolution();
      if (override?.action === 'skip') {
        setStage('skipped');
        return finish();
      }
      if (override?.action === 'treat_as_refund' || override?.action === 'treat_as_adjustment') {
        await classifyNegative(ctx, override);
        return finish();
      }
      continue;
    }
    if (outcome.stage === 'skipped') {
      setStage('skipped', outcome.reason ? { reason: outcome.reason, detail: skippedDetail(plan) } : null);
      return finish();
    }
    setStage('applied', outcome.reason ? { reason: outcome.reason, detail: skippedDetail(plan) } : null);
    const result = await posting.submitToJournal({ companyId: input.companyId, request: toJournalRequest(plan, ctx) });
    state.posting = result;
    if (result.status === 'rejected') {
      const r = await waitForFinance('erp_rejected', `${result.code}: ${result.message}`);
      override = applyResolution(r, plan, resolutions);
      finishResolution();
      if (override?.action === 'skip') {
        setStage('skipped');
        return finish();
      }
      continue;
    }
    setStage('posted', outcome.reason ? { reason: outcome.reason, detail: skippedDetail(plan) } : null);
    await tellInvoices(plan, result);
    await acts.notifyStaffOfPayment({ paymentId: input.paymentId, connectionKey: input.connectionKey, kind: 'posted', amountMinor: ctx.amountMinor, currency: ctx.currency });
    return finish();
  }

  async function finish(): Promise<PaymentState> {
    await condition(allHandlersFinished);
    return state;
  }

  /** Negative payments: an adjustment with a positive partner, else (after the window) a refund to the customer. */
  async function classifyNegative(c: PaymentContext, forced?: ResolutionAction): Promise<boolean> {
    let partner: string | null = forced?.action === 'treat_as_adjustment' ? forced.partnerPaymentId : null;
    if (!partner && forced?.action !== 'treat_as_refund') {
      if (!c.customerNumber) return false; // unknown customer: the plan parks it
      for (;;) {
        const match = await acts.matchAdjustment({ companyId: input.companyId, customerNumber: c.customerNumber, connectionKey: input.connectionKey, payment: matchable(c) });
        if (match.decision === 'adjustment') {
          partner = match.partnerPaymentId;
          break;
        }
        if (match.decision === 'ambiguous') {
          const r = await waitForFinance('ambiguous_adjustment', `several payments could be the partner: ${match.candidates.join(', ')}`);
          finishResolution();
          if (r.action === 'treat_as_adjustment') partner = r.partnerPaymentId;
          else if (r.action === 'skip') {
            setStage('skipped');
            return true;
          }
          break;
        }
        if (match.decision === 'refund' || match.decision === 'none') break;
        setStage('classified');
        // Wait for a partner until the window closes; the arbiter signals us if one arrives.
        const waitMs = Math.max(0, match.untilMs - Date.now());
        await condition(() => pairedWith !== null, waitMs);
        if (pairedWith) {
          partner = pairedWith;
          break;
        }
      }
    }
    if (partner) {
      state.adjustmentPartner = partner;
      const partnerPosting = await acts.findErpPosting({ paymentId: partner });
      if (partnerPosting.posted && !partnerPosting.reversed) {
        const result = await posting.submitToJournal({ companyId: input.companyId, request: reversalRequest(partner, partnerPosting.lines, c) });
        state.posting = result;
      }
      setStage('adjusted');
      return true;
    }
    if (!c.customerNumber) return false;
    const result = await posting.submitToJournal({
      companyId: input.companyId,
      request: {
        externalDocumentNumber: input.paymentId,
        postingDate: c.date,
        lines: [{ kind: 'refund', customerNumber: c.customerNumber, amountMinor: -c.amountMinor, currency: c.currency, description: `Portal refund ${input.paymentId}` }],
      },
    });
    state.posting = result;
    if (result.status === 'rejected') {
      const r = await waitForFinance('erp_rejected', `${result.code}: ${result.message}`);
      finishResolution();
      if (r.action === 'skip') setStage('skipped');
      return true;
    }
    setStage('refunded');
    return true;
  }

  async function reverse(c: PaymentContext) {
    const amount = c.portalStatus === 'voided' || c.portalStatus === 'failed' ? c.erp.postedMinor - c.erp.reversedMinor : c.refundedMinor - c.erp.reversedMinor;
    const result = await posting.submitToJournal({
      companyId: input.companyId,
      request: reversalRequest(input.paymentId, c.erp.lines, c, amount),
    });
    state.posting = result;
    setStage('refunded', result.status === 'rejected' ? { reason: 'erp_rejected', detail: `${result.code}: ${result.message}` } : null);
    for (const n of c.invoiceNumbers) await signalInvoice(n);
  }

  async function buildPlan(c: PaymentContext, resolutions: FinanceResolutions, override: ResolutionAction | null): Promise<ApplicationPlan> {
    const allocations =
      override?.action === 'apply_to_invoice'
        ? [{ invoiceNumber: override.invoiceNumber, amountMinor: c.amountMinor }]
        : override?.action === 'post_unapplied'
          ? []
          : c.allocations;
    const lookup = await acts.lookupErpInvoices({ numbers: allocations.map((a) => a.invoiceNumber) });
    return planApplication(
      { paymentId: input.paymentId, amountMinor: c.amountMinor, currency: c.currency, customerNumber: c.customerNumber, allocations, customerMethodCode: null },
      lookup.invoices,
      { ...lookup.settings, paymentMethodCode: c.methodCode ?? lookup.settings.paymentMethodCode },
      resolutions,
    );
  }

  async function tellInvoices(plan: ApplicationPlan, result: JournalPostResult) {
    if (result.status === 'rejected') return;
    const applied = new Map<string, number>();
    for (const part of postableParts(plan)) {
      if (part.kind === 'applied') applied.set(part.invoiceNumber, (applied.get(part.invoiceNumber) ?? 0) + part.amountMinor);
    }
    for (const [invoiceNumber, amountMinor] of applied) {
      await signalInvoice(invoiceNumber, { paymentId: input.paymentId, amountMinor, erpRemainingMinor: result.invoiceRemaining[invoiceNumber] ?? null });
    }
  }

  async function signalInvoice(invoiceNumber: string, posted?: { paymentId: string; amountMinor: number; erpRemainingMinor: number | null }) {
    try {
      await getExternalWorkflowHandle(invoiceWorkflowId(input.companyId, invoiceNumber)).signal(
        paymentPostedSignal,
        posted ?? { paymentId: input.paymentId, amountMinor: 0, erpRemainingMinor: null },
      );
    } catch {
      // The invoice was not synced by us (or its workflow has ended): the drift sweep reconciles it.
    }
  }
}

function matchable(c: PaymentContext) {
  return { paymentId: c.paymentId, amountMinor: c.amountMinor, currency: c.currency, atMs: c.createdAtMs };
}

function describe(r: Resolution): string {
  switch (r.action) {
    case 'apply_to_invoice':
      return `apply to invoice ${r.invoiceNumber}`;
    case 'treat_as_adjustment':
      return `adjustment of payment ${r.partnerPaymentId}`;
    default:
      return r.action.replace(/_/g, ' ');
  }
}

/** Which resolutions make sense for which reason: anything else is rejected before it reaches history. */
const ALLOWED: Record<AttentionReason, ReadonlyArray<ResolutionAction['action']>> = {
  unknown_invoice: ['apply_to_invoice', 'post_unapplied', 'skip', 'retry'],
  unknown_customer: ['skip', 'retry'],
  currency_mismatch: ['post_unapplied', 'skip', 'retry'],
  ambiguous_adjustment: ['treat_as_adjustment', 'treat_as_refund', 'skip'],
  closed_invoice: ['post_unapplied', 'apply_to_invoice', 'skip', 'retry'],
  over_cap: ['apply_to_invoice', 'post_unapplied', 'skip', 'retry'],
  erp_rejected: ['retry', 'post_unapplied', 'apply_to_invoice', 'skip'],
  missing_email: ['retry'],
  drift: ['retry', 'skip'],
};

function validateResolution(state: PaymentState, r: Resolution): void {
  if (!r.by?.trim()) throw new Error('who is resolving ("by") is required');
  if (!r.why?.trim()) throw new Error('a reason ("why") is required');
  if (state.stage !== 'needs_attention' || !state.attention) {
    throw new Error(`payment ${state.paymentId} does not need attention (stage ${state.stage})`);
  }
  const allowed = ALLOWED[state.attention.reason];
  if (!allowed.includes(r.action)) {
    throw new Error(`"${r.action}" does not resolve ${state.attention.reason}; allowed: ${allowed.join(', ')}`);
  }
  if (r.action === 'apply_to_invoice' && !r.invoiceNumber?.trim()) throw new Error('invoiceNumber is required');
  if (r.action === 'treat_as_adjustment' && !r.partnerPaymentId?.trim()) throw new Error('partnerPaymentId is required');
}

/** Folds a finance decision into the inputs of the next plan. */
function applyResolution(r: Resolution, plan: ApplicationPlan, resolutions: FinanceResolutions): ResolutionAction | null {
  switch (r.action) {
    case 'retry':
      return null;
    case 'post_unapplied': {
      const numbers = plan.attention?.invoiceNumbers ?? [];
      if (numbers.length === 0) return { action: 'post_unapplied' };
      (resolutions as { invoices?: Record<string, 'post_unapplied' | 'skip'> }).invoices = {
        ...resolutions.invoices,
        ...Object.fromEntries(numbers.map((n) => [n, 'post_unapplied' as const])),
      };
      if (plan.attention?.reason === 'over_cap') (resolutions as { allowOverCap?: boolean }).allowOverCap = true;
      return null;
    }
    default:
      return r;
  }
}

function skippedDetail(plan: ApplicationPlan): string {
  return plan.parts
    .filter((p) => p.kind === 'skipped' || p.kind === 'excess')
    .map((p) => `${p.kind} ${p.amountMinor} (${p.invoiceNumber ?? 'no invoice'})`)
    .join('; ');
}

function toJournalRequest(plan: ApplicationPlan, c: PaymentContext) {
  return {
    externalDocumentNumber: plan.externalDocumentNumber,
    paymentMethodCode: plan.methodCode,
    balancingAccountNo: plan.balancingAccount,
    postingDate: c.date,
    lines: postableParts(plan).map((p) => ({
      kind: p.kind,
      customerNumber: c.customerNumber!,
      amountMinor: p.amountMinor,
      currency: c.currency,
      invoiceNumber: p.kind === 'applied' ? p.invoiceNumber : null,
      account: p.kind === 'fee' ? p.account : null,
      description: p.kind === 'fee' ? `Portal payment ${c.paymentId} fee` : `Portal payment ${c.paymentId}`,
    })),
  };
}

function reversalRequest(paymentId: string, lines: PaymentContext['erp']['lines'], c: PaymentContext, amountMinor?: number) {
  const total = amountMinor ?? lines.reduce((s, l) => s + l.amountMinor, 0);
  return {
    externalDocumentNumber: `${paymentId}-R`,
    postingDate: c.date,
    lines: [
      {
        kind: 'reversal' as const,
        customerNumber: c.customerNumber!,
        amountMinor: total,
        currency: c.currency,
        description: `Reversal of portal payment ${paymentId}`,
      },
    ],
  };
}


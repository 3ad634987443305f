import {
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AttentionReason } from '../src/domain/application';
import { nextInvoiceStage, type InvoiceStage } from '../src/domain/stages';
import { AmountDue, AttentionReason as AttentionReasonKey, CustomerNumber, Stage } from '../src/temporal/searchAttributes';
import {
  cancelInvoiceUpdate,
  copyLinkUpdate,
  customerReadySignal,
  erpApplicationSignal,
  erpInvoiceChangedSignal,
  invoiceStateQuery,
  invoiceTimelineQuery,
  invoiceViewedSignal,
  paymentPostedSignal,
  previewLinkQuery,
  resetSyncUpdate,
  sendLinkUpdate,
} from './invoiceMessages';
import type { InvoiceState, TimelineEvent } from './invoiceTypes';

export * from './invoiceMessages';
export type { InvoiceState, TimelineEvent } from './invoiceTypes';

// One workflow per posted ERP invoice (id invoice:<company>:<number>): syncing → synced → link_sent → viewed →
// partially_paid → paid → posted, or cancelled / needs_attention. The workflow records facts from the ERP, the portal and
// the payment workflows; the stage rule itself lives in src/domain/stages.ts. Long-lived invoices continue-as-new
// carrying their state, so history stays small for months.

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const TIMELINE_LIMIT = 200;
const MAX_HISTORY = 5000;

export interface InvoiceLifecycleInput {
  companyId: string;
  invoiceNumber: string;
  /** Carried across continue-as-new. */
  state?: InvoiceState;
}

type Event =
  | { type: 'viewed'; viewedAt: string }
  | { type: 'paymentPosted'; paymentId: string; amountMinor: number; erpRemainingMinor: number | null }
  | { type: 'erpApplication'; entryNumber: number; amountMinor: number; kind: 'applied' | 'unapplied'; postedAt: string }
  | { type: 'erpChanged'; reason: string };

export async function invoiceLifecycle(input: InvoiceLifecycleInput): Promise<InvoiceState> {
  const state: InvoiceState = input.state ?? {
    companyId: input.companyId,
    invoiceNumber: input.invoiceNumber,
    customerNumber: null,
    currency: null,
    totalMinor: 0,
    erpRemainingMinor: null,
    portalBalanceMinor: null,
    portal: null,
    stage: 'syncing',
    attention: null,
    linkSent: false,
    viewed: false,
    cancelled: false,
    postedPayments: [],
    erpEntries: [],
    timeline: [],
  };
  const events: Event[] = [];
  let customerReady = false;
  // Held in an object: requests are set by handlers between awaits, which flow analysis cannot see.
  const requests: { reset: { by: string; why: string } | null; cancel: { by: string; why: string } | null } = { reset: null, cancel: null };
  let lastIndexed = { stage: state.stage, attention: state.attention?.reason ?? null, due: state.erpRemainingMinor };

  const record = (e: Omit<TimelineEvent, 'at'>) => {
    state.timeline.push({ at: new Date().toISOString(), ...e });
    if (state.timeline.length > TIMELINE_LIMIT) state.timeline.splice(0, state.timeline.length - TIMELINE_LIMIT);
  };

  /** Derives the stage from the facts and indexes what changed, in one search-attribute upsert. */
  const restage = (opts: { reset?: boolean } = {}) => {
    const decision = nextInvoiceStage(
      state.stage,
      {
        totalMinor: state.totalMinor,
        erpRemainingMinor: state.erpRemainingMinor,
        portalBalanceMinor: state.portalBalanceMinor,
        portalSynced: state.portal !== null,
        linkSent: state.linkSent,
        viewed: state.viewed,
        paymentsPosted: state.postedPayments.length + state.erpEntries.length,
        paymentsUnposted: 0,
        cancelled: state.cancelled,
        attention: state.attention?.reason ?? null,
      },
      opts,
    );
    state.stage = decision.stage;
    const now = { stage: state.stage, attention: state.attention?.reason ?? null, due: state.erpRemainingMinor };
    const changes = [
      ...(now.stage !== lastIndexed.stage ? [{ key: Stage, value: now.stage }] : []),
      ...(now.attention !== lastIndexed.attention ? [{ key: AttentionReasonKey, value: now.attention }] : []),
      ...(now.due !== lastIndexed.due && now.due !== null ? [{ key: AmountDue, value: now.due }] : []),
    ];
    if (changes.length) upsertSearchAttributes(changes as Parameters<typeof upsertSearchAttributes>[0]);
    lastIndexed = now;
  };
  const setAttention = (reason: AttentionReason | null, detail = '') => {
    state.attention = reason ? { reason, detail } : null;
    if (reason) record({ kind: 'attention', detail: `${reason}: ${detail}` });
    restage();
  };

  const sendLink = async (channels: Array<'email' | 'sms'> | undefined, by: string) => {
    const res = await acts.sendInvoiceLink({
      companyId: state.companyId,
      invoiceNumber: state.invoiceNumber,
      customerNumber: state.customerNumber!,
      portal: state.portal!,
      channels,
      sequence: state.timeline.filter((e) => e.kind === 'link_sent').length + 1,
    });
    for (const channel of res.sent) record({ kind: 'link_sent', channel, by });
    if (res.sent.length) state.linkSent = true;
    restage();
    return res;
  };

  setHandler(invoiceViewedSignal, (e) => void events.push({ type: 'viewed', ...e }));
  setHandler(paymentPostedSignal, (e) => void events.push({ type: 'paymentPosted', ...e }));
  setHandler(erpApplicationSignal, (e) => void events.push({ type: 'erpApplication', ...e }));
  setHandler(erpInvoiceChangedSignal, (e) => void events.push({ type: 'erpChanged', ...e }));
  setHandler(customerReadySignal, () => {
    customerReady = true;
  });
  setHandler(invoiceStateQuery, () => state);
  setHandler(invoiceTimelineQuery, () => state.timeline);
  setHandler(previewLinkQuery, () => (state.portal ? `${state.portal.link}${state.portal.link.includes('?') ? '&' : '?'}silent=true` : null));
  const requireSynced = () => {
    if (state.cancelled) throw new Error(`invoice ${state.invoiceNumber} is cancelled`);
    if (!state.portal) throw new Error(`invoice ${state.invoiceNumber} is not in the portal yet (stage ${state.stage})`);
  };
  setHandler(
    sendLinkUpdate,
    async ({ channels, by }) => {
      const res = await sendLink(channels, by);
      return { sent: res.sent, link: state.portal!.link };
    },
    { validator: ({ by }) => (requireSynced(), requireBy(by)) },
  );
  setHandler(
    copyLinkUpdate,
    ({ by }) => {
      record({ kind: 'link_copied', by });
      state.linkSent = true;
      restage();
      return { link: state.portal!.link };
    },
    { validator: ({ by }) => (requireSynced(), requireBy(by)) },
  );
  setHandler(
    resetSyncUpdate,
    async (r) => {
      requests.reset = r;
      await condition(() => requests.reset === null);
      return state;
    },
    { validator: ({ by, why }) => (requireBy(by), requireWhy(why)) },
  );
  setHandler(
    cancelInvoiceUpdate,
    async (r) => {
      requests.cancel = r;
      await condition(() => state.cancelled);
      return state;
    },
    {
      validator: ({ by, why }) => {
        requireBy(by);
        requireWhy(why);
        if (state.cancelled) throw new Error(`invoice ${state.invoiceNumber} is already cancelled`);
      },
    },
  );

  const refreshFromErp = async () => {
    const b = await acts.readInvoiceBalances({ companyId: state.companyId, invoiceNumber: state.invoiceNumber, portal: state.portal });
    state.erpRemainingMinor = b.erpRemainingMinor;
    state.portalBalanceMinor = b.portalBalanceMinor;
    return b;
  };

  const cancel = async (by: string, why: string) => {
    if (state.portal) await acts.cancelPortalInvoice({ portal: state.portal, invoiceNumber: state.invoiceNumber });
    state.cancelled = true;
    record({ kind: 'cancelled', by, detail: why });
    restage();
  };

  /** ERP → portal: customer first, then the invoice; waits (needs_attention) while the customer cannot be synced. */
  const sync = async (): Promise<void> => {
    for (;;) {
      const erp = await acts.loadErpInvoice({ companyId: state.companyId, invoiceNumber: state.invoiceNumber });
      if (!state.customerNumber) upsertSearchAttributes([{ key: CustomerNumber, value: erp.customerNumber }]);
      state.customerNumber = erp.customerNumber;
      state.currency = erp.currency;
      state.totalMinor = erp.totalMinor;
      state.erpRemainingMinor = erp.remainingMinor;
      if (erp.status === 'cancelled') return cancel('erp', 'cancelled or credited in the ERP');
      if (erp.status === 'draft') {
        setAttention('drift', 'the ERP invoice is not posted');
        await condition(() => events.length > 0 || requests.cancel !== null);
        continue;
      }
      customerReady = false;
      const customer = await acts.requestPortalClient({
        companyId: state.companyId,
        customerNumber: erp.customerNumber,
        invoiceWorkflowId: workflowInfo().workflowId,
      });
      if (customer.status !== 'ready') {
        setAttention(customer.status === 'missing_email' ? 'missing_email' : 'unknown_customer', customer.detail);
        await condition(() => customerReady || requests.cancel !== null || requests.reset !== null);
        if (requests.cancel) return;
        requests.reset = null;
        continue;
      }
      const synced = await acts.syncInvoiceToPortal({
        companyId: state.companyId,
        invoiceNumber: state.invoiceNumber,
        connectionKey: customer.connectionKey,
        clientId: customer.clientId,
      });
      state.portal = synced.portal;
      state.portalBalanceMinor = synced.portalBalanceMinor;
      record({ kind: 'synced', amountMinor: synced.portalTotalMinor, detail: synced.created ? 'created in the portal' : 'found in the portal' });
      if (synced.portalTotalMinor !== state.totalMinor) {
        setAttention('drift', `portal total ${synced.portalTotalMinor} differs from ERP total ${state.totalMinor}`);
      } else if (state.attention) {
        state.attention = null;
      }
      if (synced.sendLinkOnSync && !state.linkSent) await sendLink(undefined, 'system');
      else restage();
      return;
    }
  };

  if (!state.portal && !state.cancelled) await sync();

  while (!state.cancelled && state.stage !== 'posted') {
    await condition(
      () =>
        events.length > 0 ||
        requests.reset !== null ||
        requests.cancel !== null ||
        workflowInfo().continueAsNewSuggested ||
        workflowInfo().historyLength > MAX_HISTORY,
    );
    if (requests.cancel) {
      const { by, why } = requests.cancel;
      await cancel(by, why);
      requests.cancel = null;
      break;
    }
    if (requests.reset) {
      record({ kind: 'reset', by: requests.reset.by, detail: requests.reset.why });
      state.portal = null;
      state.linkSent = false;
      state.attention = null;
      restage({ reset: true });
      requests.reset = null;
      await sync();
      continue;
    }
    if (events.length === 0) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof invoiceLifecycle>({ ...input, state });
    }
    let refresh = false;
    for (const e of events.splice(0, events.length)) {
      switch (e.type) {
        case 'viewed':
          record({ kind: 'viewed', detail: e.viewedAt });
          if (!state.viewed) {
            state.viewed = true;
            await acts.notifyStaffOfView({ invoiceNumber: state.invoiceNumber, customerNumber: state.customerNumber, viewedAt: e.viewedAt });
          }
          break;
        case 'paymentPosted':
          if (e.amountMinor === 0) {
            // A reversal: the balances say what is left.
            refresh = true;
            break;
          }
          if (!state.postedPayments.includes(e.paymentId)) {
            state.postedPayments.push(e.paymentId);
            record({ kind: 'payment_made', amountMinor: e.amountMinor, detail: `portal payment ${e.paymentId}` });
          }
          if (e.erpRemainingMinor !== null) state.erpRemainingMinor = e.erpRemainingMinor;
          // The portal balance moved too (the payment came from there): read both sides once.
          refresh = true;
          break;
        case 'erpApplication':
          if (!state.erpEntries.includes(e.entryNumber)) {
            state.erpEntries.push(e.entryNumber);
            record({ kind: e.kind === 'applied' ? 'erp_payment' : 'erp_unapplied', amountMinor: e.amountMinor, detail: `ERP entry ${e.entryNumber}` });
          }
          refresh = true;
          break;
        case 'erpChanged':
          refresh = true;
          break;
      }
    }
    if (refresh) {
      const b = await refreshFromErp();
      if (b.erpStatus === 'cancelled') {
        await cancel('erp', 'cancelled or credited in the ERP');
        break;
      }
    }
    restage();
    if ((state.stage as InvoiceStage) === 'posted') record({ kind: 'posted', amountMinor: state.totalMinor });
  }
  await condition(allHandlersFinished);
  return state;
}

function requireBy(by: string) {
  if (!by?.trim()) throw new Error('who is asking ("by") is required');
}
function requireWhy(why: string) {
  if (!why?.trim()) throw new Error('a reason ("why") is required');
}

import type { TaxArithmetic } from './calc';
import type { SandboxStore } from './store';
import type { WebhookDispatcher } from './webhooks';

/** A convenience fee per payment method: a percentage of the amount paid plus a fixed part in minor units. */
export interface FeeRule {
  percent: number;
  fixedMinor: number;
}

export interface FeeSettings {
  card: FeeRule;
  bank: FeeRule;
}

export const DEFAULT_FEES: FeeSettings = { card: { percent: 2.9, fixedMinor: 30 }, bank: { percent: 0, fixedMinor: 100 } };

/** What every sandbox operation needs: the state, the webhook dispatcher and where the sandbox is reachable. */
export interface SandboxContext {
  store: SandboxStore;
  hooks: WebhookDispatcher;
  publicUrl: () => string;
  fees: FeeSettings;
  /** How invoice taxes are computed (admin `setTaxArithmetic`): exact by default. */
  taxArithmetic: TaxArithmetic;
  /** Pending bank payments settle on their own after this long; undefined waits for the admin route. */
  pendingSettleMs?: number;
  schedulePending: (paymentId: string) => void;
  /** Invoice Ninja's one-second duplicate guards: throws 400 "Duplicate request" if `key` was seen in the last second. */
  guard: (key: string) => void;
}

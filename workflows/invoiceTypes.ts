import type { AttentionReason } from '../src/domain/application';
import type { InvoiceStage } from '../src/domain/stages';

export type TimelineKind =
  | 'synced'
  | 'link_copied'
  | 'link_sent'
  | 'viewed'
  | 'payment_made'
  | 'erp_payment'
  | 'erp_unapplied'
  | 'posted'
  | 'attention'
  | 'reset'
  | 'cancelled';

export interface TimelineEvent {
  at: string;
  kind: TimelineKind;
  channel?: 'email' | 'sms';
  amountMinor?: number;
  by?: string;
  detail?: string;
}

export interface PortalLink {
  connectionKey: string;
  clientId: string;
  invoiceId: string;
  invitationKey: string;
  /** The customer's view-and-pay link. */
  link: string;
}

export interface InvoiceState {
  companyId: string;
  invoiceNumber: string;
  customerNumber: string | null;
  currency: string | null;
  totalMinor: number;
  erpRemainingMinor: number | null;
  portalBalanceMinor: number | null;
  portal: PortalLink | null;
  stage: InvoiceStage;
  attention: { reason: AttentionReason; detail: string } | null;
  linkSent: boolean;
  viewed: boolean;
  cancelled: boolean;
  /** Portal payment ids posted to this invoice, and the ERP entries applied to it. */
  postedPayments: string[];
  erpEntries: number[];
  /** Bounded: the newest events are kept across continue-as-new. */
  timeline: TimelineEvent[];
}

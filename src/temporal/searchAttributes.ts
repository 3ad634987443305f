import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// The custom search attributes operators filter on in the Temporal UI. Defined once; registered by the dev server
// flags (src/stack) and by `arsync temporal setup` on a real cluster.
export const InvoiceNumber = defineSearchAttributeKey('InvoiceNumber', SearchAttributeType.KEYWORD);
export const CustomerNumber = defineSearchAttributeKey('CustomerNumber', SearchAttributeType.KEYWORD);
export const Stage = defineSearchAttributeKey('Stage', SearchAttributeType.KEYWORD);
export const AttentionReason = defineSearchAttributeKey('AttentionReason', SearchAttributeType.KEYWORD);
/** Open amount in minor units (integer, so range queries are exact). */
export const AmountDue = defineSearchAttributeKey('AmountDue', SearchAttributeType.INT);
export const PortalPaymentId = defineSearchAttributeKey('PortalPaymentId', SearchAttributeType.KEYWORD);
/**
 * Every invoice a payment touches, each on its own (`InvoiceNumbers = "A"` finds a payment of A and B). A payment's
 * `InvoiceNumber` keeps the numbers joined with commas, as runs before it was added have only that.
 */
export const InvoiceNumbers = defineSearchAttributeKey('InvoiceNumbers', SearchAttributeType.KEYWORD_LIST);
/** A payment's amount as the portal has it, minor units (signed: negative for a negative payment). */
export const PaymentAmount = defineSearchAttributeKey('PaymentAmount', SearchAttributeType.INT);
/** The currency of `PaymentAmount`. */
export const Currency = defineSearchAttributeKey('Currency', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [InvoiceNumber, CustomerNumber, Stage, AttentionReason, AmountDue, PortalPaymentId, InvoiceNumbers, PaymentAmount, Currency] as const;

const CLI_TYPE_NAMES: Record<string, string> = {
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.DOUBLE]: 'Double',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.DATETIME]: 'Datetime',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
};

/** `--search-attribute Name=Type` flags for `temporal server start-dev`. */
export function devServerSearchAttributeFlags(): string[] {
  return SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=${CLI_TYPE_NAMES[k.type]}`]);
}

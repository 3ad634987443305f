import { z } from 'zod';
import type { Resolution } from '../../workflows/portalPayment';
import { INVOICE_STAGES, PAYMENT_STAGES } from '../domain/stages';
import { MAX_LIST_LIMIT } from './visibility';

// What the API and the CLI accept, validated once here. Ids become workflow ids and visibility-query literals, so they are
// held to the character sets the systems use: Business Central "Code[20]" numbers, Invoice Ninja's hashed ids.

/** A message for a missing value (other type errors keep zod's own). */
const required = (message: string) => ({ error: (issue: { input?: unknown }) => (issue.input === undefined ? message : undefined) });

const CODE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const code = (what: string) =>
  z
    .string(required(`${what} is required`))
    .trim()
    .min(1, `${what} is required`)
    .max(20, `${what} has at most 20 characters`)
    .regex(CODE, `${what} may contain letters, digits, ".", "_" and "-" only`);

export const invoiceNumber = code('an invoice number');
export const customerNumber = code('a customer number');
/** "default" or a customer posting group code that selects its own portal connection. */
export const connectionKey = code('a connection key');
export const portalPaymentId = z
  .string(required('a portal payment id is required'))
  .trim()
  .min(1, 'a portal payment id is required')
  .max(64, 'a portal payment id has at most 64 characters')
  .regex(/^[A-Za-z0-9_-]+$/, 'a portal payment id may contain letters, digits, "_" and "-" only');

/** Who is acting: every finance decision names a person (or system) and is kept in the workflow history. */
export const actor = z
  .string(required('who is acting ("by") is required'))
  .trim()
  .min(1, 'who is acting ("by") is required')
  .max(100, 'at most 100 characters');
export const reason = z
  .string(required('a reason ("why") is required'))
  .trim()
  .min(1, 'a reason ("why") is required')
  .max(1000, 'at most 1000 characters');

export const channel = z.enum(['email', 'sms']);
/** Link channels for one send; repeats collapse. Leave the list out for the configured channels. */
export const channels = z
  .array(channel)
  .min(1, 'name at least one channel, or leave channels out')
  .max(2)
  .transform((c) => [...new Set(c)]);
export const invoiceStage = z.enum(INVOICE_STAGES);
export const paymentStage = z.enum(PAYMENT_STAGES);
export const listLimit = z.coerce.number().int().min(1).max(MAX_LIST_LIMIT);

export const MAX_BULK = 500;
/** One or many ids for a bulk action; repeats collapse (every action is idempotent per id). */
export const bulk = <T extends z.ZodType<string>>(item: T) =>
  z
    .array(item, required('at least one number is required'))
    .min(1, 'at least one number is required')
    .max(MAX_BULK, `at most ${MAX_BULK} numbers at once`)
    .transform((items) => [...new Set(items)]);

const resolutionFields = { by: actor, why: reason };
/** Finance's decision on a payment that needs attention: the workflow's Resolution, with who and why. */
export const resolution = z.discriminatedUnion('action', [
  z.object({ action: z.literal('apply_to_invoice'), invoiceNumber, ...resolutionFields }).strict(),
  z.object({ action: z.literal('post_unapplied'), ...resolutionFields }).strict(),
  z.object({ action: z.literal('treat_as_refund'), ...resolutionFields }).strict(),
  z.object({ action: z.literal('treat_as_adjustment'), partnerPaymentId: portalPaymentId, ...resolutionFields }).strict(),
  z.object({ action: z.literal('skip'), ...resolutionFields }).strict(),
  z.object({ action: z.literal('retry'), ...resolutionFields }).strict(),
]);
export const RESOLUTION_ACTIONS = ['apply_to_invoice', 'post_unapplied', 'treat_as_refund', 'treat_as_adjustment', 'skip', 'retry'] as const;

// The schema and the workflow's Update argument must not drift apart.
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const resolutionMatchesWorkflow: Exact<z.infer<typeof resolution>, Resolution> = true;
const actionsMatchWorkflow: Exact<(typeof RESOLUTION_ACTIONS)[number], Resolution['action']> = true;
void resolutionMatchesWorkflow;
void actionsMatchWorkflow;

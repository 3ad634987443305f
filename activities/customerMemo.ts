import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { z } from 'zod';
import { ADJUSTMENT_PAIRED_MEMO, ADJUSTMENT_WAITING_MEMO, PORTAL_CLIENT_MEMO, type PortalClientAnswer } from '../workflows/customer';
import { customerWorkflowId } from '../workflows/ids';
import { singleFlight, type SingleFlight } from '../src/adapters/singleFlight';
import type { ActivityDeps } from './deps';

// What a customer's workflow publishes in its memo (workflows/customer.ts, revision 2), read with a describe: no
// Update, no workflow task, no billed action.

/** The published portal client (auto-bill absent in a memo written before it was). */
const publishedClientSchema = z.object({ connectionKey: z.string().min(1), clientId: z.string().min(1), autoBill: z.boolean().optional() });

type Memo = Record<string, unknown> | null;

/** Per Temporal client: the invoices of one customer synced at once share one describe. */
const memoReads = new WeakMap<Client, SingleFlight<Memo>>();

/** The memo of the customer's running workflow; null when none runs. Throws when the server cannot say. */
function customerMemo(deps: ActivityDeps, companyId: string, customerNumber: string): Promise<Memo> {
  const client = deps.temporal.client;
  let reads = memoReads.get(client);
  if (!reads) memoReads.set(client, (reads = singleFlight<Memo>()));
  const workflowId = customerWorkflowId(companyId, customerNumber);
  return reads(workflowId, () => describeMemo(client, workflowId));
}

async function describeMemo(client: Client, workflowId: string): Promise<Memo> {
  try {
    const d = await client.workflow.getHandle(workflowId).describe();
    return d.status.name === 'RUNNING' ? (d.memo ?? {}) : null;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/** The ready portal client the customer's workflow has published; null (ask it by Update) when none, or unreadable. */
export async function publishedPortalClientOf(deps: ActivityDeps, companyId: string, customerNumber: string): Promise<PortalClientAnswer | null> {
  const memo = await customerMemo(deps, companyId, customerNumber).catch(() => null);
  const p = publishedClientSchema.safeParse(memo?.[PORTAL_CLIENT_MEMO]);
  return p.success ? { status: 'ready', ...p.data } : null;
}

/**
 * Whether the customer's workflow says a negative payment waits for a partner, or lists `paymentId` as paired already
 * (a positive payment then offers itself, and hears its pairing). No customer workflow: nobody waits. A run that does
 * not say (older revision) or cannot be read: assume one does.
 */
export async function adjustmentWaitingFor(deps: ActivityDeps, companyId: string, customerNumber: string, paymentId?: string): Promise<boolean> {
  try {
    const memo = await customerMemo(deps, companyId, customerNumber);
    if (memo === null) return false;
    const paired = memo[ADJUSTMENT_PAIRED_MEMO];
    return memo[ADJUSTMENT_WAITING_MEMO] !== false || (paymentId !== undefined && Array.isArray(paired) && paired.includes(paymentId));
  } catch {
    return true;
  }
}

import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { customerStateQuery, resetCustomerSyncUpdate, setOptInUpdate, syncCustomerUpdate, type CustomerState, type PortalClientAnswer } from '../../workflows/customer';
import { customerWorkflowId } from '../../workflows/ids';
import { updateCustomer } from '../temporal/starters';
import { bounded, notFoundOrEnded, OperationError, type OpsContext } from './context';

async function call<T>(ctx: OpsContext, number: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await bounded(ctx, `customer ${number}`, fn);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      const unknown = `customer ${number} is not known to arsync (opt it in or sync it first)`;
      throw await notFoundOrEnded(ctx, customerWorkflowId(ctx.companyId, number), `customer ${number}`, unknown);
    }
    if (err instanceof WorkflowUpdateFailedError) throw new OperationError(String(err.cause?.message ?? err.message), 409);
    throw err;
  }
}

/** "Allow Online Customer Payment Portal" for one or many customers (and optionally "Auto Bill Recurring Invoices"). */
export async function setOptIn(ctx: OpsContext, numbers: string[], opts: { optedIn: boolean; autoBill?: boolean; by: string }) {
  const out: Array<{ customerNumber: string; optedIn: boolean; autoBill: boolean; portal: CustomerState['portal']; lastSync: CustomerState['lastSync'] }> = [];
  // One at a time: each update may create the customer's workflow and sync it with the portal.
  for (const n of numbers) {
    const s = await call(ctx, n, () => updateCustomer(ctx, ctx.companyId, n, setOptInUpdate, opts));
    out.push({ customerNumber: n, optedIn: s.optedIn, autoBill: s.autoBill, portal: s.portal, lastSync: s.lastSync });
  }
  return out;
}

/** "Sync Customer" for one or many customers. */
export async function syncCustomers(ctx: OpsContext, numbers: string[], by: string): Promise<Array<{ customerNumber: string } & PortalClientAnswer>> {
  const out = [];
  for (const n of numbers) out.push({ customerNumber: n, ...(await call(ctx, n, () => updateCustomer(ctx, ctx.companyId, n, syncCustomerUpdate, { by }))) });
  return out;
}

export const customerState = (ctx: OpsContext, number: string): Promise<CustomerState> =>
  call(ctx, number, () => ctx.client.workflow.getHandle(customerWorkflowId(ctx.companyId, number)).query(customerStateQuery));

/** "Modify Sync Status" for a customer arsync knows (a mistyped number gets a 404, not a new workflow). */
export async function resetCustomer(ctx: OpsContext, number: string, by: string, why: string): Promise<CustomerState> {
  await call(ctx, number, () => ctx.client.workflow.getHandle(customerWorkflowId(ctx.companyId, number)).describe());
  return call(ctx, number, () => updateCustomer(ctx, ctx.companyId, number, resetCustomerSyncUpdate, { by, why }));
}

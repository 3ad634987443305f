import { WorkflowNotFoundError } from '@temporalio/client';
import type { InvoiceInput, InvoiceView } from '../../src/sandbox/businessCentral/admin';
import { invoiceWorkflowId } from '../../workflows/ids';
import type { TestStack } from '../support/stack';

/**
 * Posts an ERP invoice whose number no workflow on the shared Temporal server has used yet. Every test file's sandbox
 * numbers invoices from the same start for the same company, and a finished invoice workflow keeps its id, so a reused
 * number would find another file's run instead of starting one.
 */
export async function postFreshInvoice(s: TestStack, input: InvoiceInput): Promise<InvoiceView> {
  for (let i = 0; i < 500; i++) {
    const inv = s.bc.admin.postInvoice(input);
    try {
      await s.t.client.workflow.getHandle(invoiceWorkflowId(s.bc.companyId, inv.number)).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return inv;
      throw err;
    }
  }
  throw new Error('no unused invoice number after 500 postings');
}

import { setOptIn } from '../../src/operations/customers';
import { invoiceState } from '../../src/operations/invoices';
import { registerPortalWebhooks, startServiceWorkflows } from '../../src/operations/services';
import { invoiceWorkflowId } from '../../workflows/ids';
import { eventually, startStack, type TestStack } from '../support/stack';

// When more records change in one notification window than it lists one by one, Business Central sends a single
// `collection` notification whose resource filters on lastModifiedDateTime: our endpoint re-reads what changed since
// then and starts every posted invoice among them. This stack's sandbox lists at most 3 records per window.

let s: TestStack;

beforeAll(async () => {
  s = await startStack({ bcCollectionThreshold: 3 });
  await registerPortalWebhooks(s.ops, s.deps.portals);
  await startServiceWorkflows(s.ops, s.deps.portals);
  await setOptIn(s.ops, ['C10000', 'C20000'], { optedIn: true, by: 'test' });
  await eventually(async () => (await s.deps.bc.listSubscriptions()).length > 0, 20000, 'the BC subscription');
}, 90000);
afterAll(async () => {
  await s?.close();
});

it('five invoices posted at once arrive as one collection notification: each starts once and reaches the portal with its link', async () => {
  const before = s.bc.admin.notificationDeliveries().length;
  const posted = s.bc.admin.postInvoices(
    Array.from({ length: 5 }, (_, i) => ({
      customerNumber: i % 2 ? 'C20000' : 'C10000',
      lines: [{ description: `Service ${i + 1}`, quantity: 1, unitPrice: `${100 + i}.00`, taxPercent: '5' }],
    })),
  );
  for (const inv of posted) {
    const st = await eventually(async () => {
      const x = await invoiceState(s.ops, inv.number);
      return x.stage === 'link_sent' && x;
    }, 15000, `${inv.number} at link_sent`);
    expect(st.portal).not.toBeNull();
  }
  // What Business Central sent: one collection, answered 2xx, and no notification per invoice.
  const sent = s.bc.admin.notificationDeliveries().slice(before).filter((d) => d.items.some((i) => i.resource.includes('salesInvoices')));
  expect(sent).toHaveLength(1);
  expect(sent[0]!.items).toEqual([{ changeType: 'collection', resource: expect.stringMatching(/salesInvoices\?\$filter=lastModifiedDateTime%20gt%20/) }]);
  expect(sent[0]!.status).toBe(202);
  // One run each, one portal invoice each.
  const portal = await s.deps.portals.client('default').listInvoicesUpdatedSince(0);
  for (const inv of posted) {
    expect(portal.filter((p) => p.number === inv.number)).toHaveLength(1);
    const runs = [];
    for await (const wf of s.t.client.workflow.list({ query: `WorkflowId = '${invoiceWorkflowId(s.ops.companyId, inv.number)}'` })) runs.push(wf.runId);
    expect(runs).toHaveLength(1);
  }
});

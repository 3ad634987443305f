import { randomUUID } from 'node:crypto';
import { InvoiceNumber, PortalPaymentId, Stage } from '../../src/temporal/searchAttributes';
import { paymentWorkflowId } from '../../workflows/ids';
import { portalPayment } from '../../workflows/portalPayment';
import { payOnPortal } from '../support/portalPay';
import { eventually, useStack, type TestStack } from '../support/stack';
import { paymentAt, postErpInvoice, runCli, startPaymentStack } from './paymentFixtures';

// "Which payments paid this invoice?": a portal payment of several invoices is found by each of them (the API, the
// CLI and the Temporal UI filter the README gives), and the Payment Staging list shows what each payment is worth.

let s: TestStack;
useStack(() => startPaymentStack(), (stack) => (s = stack));

interface Row {
  paymentId: string | null;
  invoiceNumbers: string | null;
  amountMinor?: number | null;
  currency?: string | null;
}

/** GET /api/v1/payments with these query parameters (the API's rows; a refused request throws with its answer). */
async function apiPayments(query: Record<string, string>): Promise<Row[]> {
  const res = await fetch(`${s.apiUrl}/api/v1/payments?${new URLSearchParams(query)}`, { headers: { authorization: `Bearer ${s.config.env.API_TOKEN}` } });
  const body = (await res.json()) as { payments?: Row[] };
  if (res.status !== 200) throw new Error(`GET /payments answered ${res.status}: ${JSON.stringify(body)}`);
  return body.payments!;
}

/** The payment's row in the list the API answers for `query`, once visibility has it. */
const rowOf = (paymentId: string, query: Record<string, string>, what: string) =>
  eventually(async () => (await apiPayments(query)).find((r) => r.paymentId === paymentId), 10000, what);

describe('payments of an invoice', () => {
  it('finds a payment of two invoices by each of them, with its amount and currency on the staging list', async () => {
    const a = await postErpInvoice(s, 'C10000', '120.00');
    const b = await postErpInvoice(s, 'C10000', '80.50');
    const { paymentId, feeMinor } = await payOnPortal(s.portal.url, a.invitationKey, [
      { invoiceId: a.portalInvoiceId, amount: '120.00' },
      { invoiceId: b.portalInvoiceId, amount: '30.25' },
    ]);
    await paymentAt(s, paymentId, 'posted');
    // What the customer paid, the portal's convenience fee included (the payment's amount in the portal).
    const amountMinor = 12000 + 3025 + feeMinor;
    const shown = `${(amountMinor / 100).toFixed(2)} USD`;

    for (const inv of [a, b]) {
      // Our API: the payments of one invoice.
      const row = await rowOf(paymentId, { invoice: inv.number }, `GET /payments?invoice=${inv.number} listing ${paymentId}`);
      expect(row).toMatchObject({ amountMinor, currency: 'USD' });
      expect(row.invoiceNumbers!.split(',').sort()).toEqual([a.number, b.number].sort());

      // The CLI: payment list --invoice, the amount with its currency.
      const cli = await runCli(s, ['payment', 'list', '--invoice', inv.number]);
      expect(cli.stderr).toBe('');
      expect(cli.code).toBe(0);
      const line = cli.stdout.split('\n').find((l) => l.startsWith(paymentId));
      expect(line).toContain(shown);

      // The Temporal UI's filter for one invoice (README), on this stack's task queue.
      const found: string[] = [];
      const query = `WorkflowType = 'portalPayment' AND InvoiceNumbers = '${inv.number}' AND TaskQueue = '${s.config.env.TEMPORAL_TASK_QUEUE}'`;
      for await (const wf of s.t.client.workflow.list({ query })) found.push(wf.workflowId);
      expect(found).toEqual([paymentWorkflowId('default', paymentId)]);
    }

    // The staging list unfiltered (API and CLI) shows the amount too.
    expect(await rowOf(paymentId, { customer: 'C10000' }, `the staging list with ${paymentId}`)).toMatchObject({ amountMinor, currency: 'USD' });
    const cli = await runCli(s, ['payment', 'list', '--customer', 'C10000', '--json']);
    expect(cli.code).toBe(0);
    expect((JSON.parse(cli.stdout) as Row[]).find((r) => r.paymentId === paymentId)).toMatchObject({ amountMinor, currency: 'USD' });
  });

  it('still finds a payment indexed before InvoiceNumbers existed by its InvoiceNumber', async () => {
    // A run of an older build indexed only InvoiceNumber (one invoice: that invoice's number); no worker takes it.
    const number = `OLD-${randomUUID().slice(0, 8)}`;
    const paymentId = `old-${randomUUID()}`;
    const handle = await s.t.client.workflow.start(portalPayment, {
      taskQueue: `no-worker-${randomUUID()}`,
      workflowId: paymentWorkflowId('default', paymentId),
      args: [{ companyId: s.ops.companyId, connectionKey: 'default', paymentId, revision: 5 }],
      typedSearchAttributes: [
        { key: PortalPaymentId, value: paymentId },
        { key: Stage, value: 'posted' },
        { key: InvoiceNumber, value: number },
      ],
    });
    try {
      const row = await rowOf(paymentId, { invoice: number }, `GET /payments?invoice=${number} listing the older run`);
      expect(row).toMatchObject({ invoiceNumbers: number, amountMinor: null, currency: null });
    } finally {
      await handle.terminate('test finished');
    }
  });
});

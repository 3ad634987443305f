import axios from 'axios';
import { parseDecimal } from '../../src/domain/money';
import { journalPosterWorkflowId } from '../../workflows/ids';
import { payOnPortal } from '../support/portalPay';
import { useStack, type TestStack } from '../support/stack';
import { journalQueue, ledger, paymentAt, postErpInvoice, remaining, startPaymentStack, unpostedLines } from './paymentFixtures';

// 50 payments made at once on 50 invoices: Business Central posts a whole batch at once, so the journal poster must
// keep them from posting (or failing) each other's lines. Each must end as exactly one posting applied to its own
// invoice.

const N = 50;
let s: TestStack;
useStack(() => startPaymentStack(), (stack) => (s = stack));

it(`${N} payments made at once on ${N} invoices: ${N} postings, each applied to its own invoice, none failed or duplicated`, async () => {
  const amounts = Array.from({ length: N }, (_, i) => `${100 + i}.${String(i).padStart(2, '0')}`);
  const invoices = await Promise.all(amounts.map((a, i) => postErpInvoice(s, i % 2 ? 'C20000' : 'C10000', a, 30000)));

  const started = Date.now();
  const paid = await Promise.all(
    invoices.map(async (inv) => ({ inv, ...(await payOnPortal(s.portal.url, inv.invitationKey, [{ invoiceId: inv.portalInvoiceId, amount: (inv.totalMinor / 100).toFixed(2) }])) })),
  );
  const states = await Promise.all(paid.map((p) => paymentAt(s, p.paymentId, 'posted', 40000)));
  const elapsed = Date.now() - started;
  const invoiceEntry = new Map(s.bc.admin.listLedgerEntries().filter((e) => e.documentType === 'Invoice').map((e) => [e.documentNumber, e.entryNumber]));
  const applications = s.bc.admin.listApplications().filter((a) => !a.unapplied);
  for (const [i, p] of paid.entries()) {
    expect(states[i]!.posting?.status).toBe('posted');
    const entries = ledger(s, p.paymentId);
    expect(entries).toHaveLength(1);
    expect(parseDecimal(entries[0]!.amount, 'USD')).toBe(-p.inv.totalMinor);
    const applied = applications.filter((a) => a.creditEntryNumber === entries[0]!.entryNumber);
    expect(applied.map((a) => a.invoiceEntryNumber)).toEqual([invoiceEntry.get(p.inv.number)]);
    expect(remaining(s, p.inv.number)).toBe(0);
  }
  expect(new Set(paid.map((p) => p.paymentId)).size).toBe(N);
  expect(await unpostedLines(s)).toEqual([]);
  // Group commits: far fewer batch posts than payments.
  const q = await journalQueue(s);
  expect(q.queued).toEqual([]);
  expect(q.posted).toBeGreaterThanOrEqual(N);
  expect(q.largestGroup).toBeGreaterThan(1);
  // Staff told of each payment exactly once (the poster sends the notices with its commit).
  const mail = (await axios.get(`${s.sinks.httpUrl}/mail`)).data as Array<{ subject: string }>;
  for (const p of paid) expect(mail.filter((m) => m.subject === `Payment ${p.paymentId} received and posted`)).toHaveLength(1);
  // One idle timer for all the groups (a timer per wait would be a billed action per group).
  const poster = await s.t.client.workflow.getHandle(journalPosterWorkflowId(s.ops.companyId, s.config.settings.payments.journalBatch)).fetchHistory();
  expect(poster.events!.filter((e) => e.timerStartedEventAttributes)).toHaveLength(1);
  process.stdout.write(`${N} payments posted in ${elapsed} ms from the first payment; ${q.groups} group commits, largest ${q.largestGroup}\n`);
}, 90000);

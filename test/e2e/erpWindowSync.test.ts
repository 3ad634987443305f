import { execFile } from 'node:child_process';
import path from 'node:path';
import axios from 'axios';
import { erpWatcherState } from '../../src/operations/erpSync';
import { removeSchedules, setupSchedules } from '../../src/operations/schedules';
import { bcSubscriptionWorkflowId, windowSyncScheduleId } from '../../workflows/ids';
import type { WindowSyncReport } from '../../workflows/windowSync';
import { eventually, type TestStack } from '../support/stack';
import { paymentsOn, portalInvoice, postSynced, startErpStack, usd, type Synced } from './erpFixtures';

// The window sync of seed 001, end to end: ERP payments made while the ledger watcher sleeps are brought to the portal by a
// window sync started over the API, the CLI or a Temporal Schedule; reruns change nothing; unknown invoices are reported.

const ROOT = path.resolve(__dirname, '../..');
let s: TestStack;
let api: ReturnType<typeof axios.create>;
const today = () => new Date().toISOString().slice(0, 10);

function arsync(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE, BC_COMPANY_ID } = s.config.env;
  const env = { ...process.env, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE, BC_COMPANY_ID, LOG_LEVEL: 'silent' };
  return new Promise((resolve) => {
    execFile(path.join(ROOT, 'node_modules/.bin/tsx'), ['src/cli/main.ts', ...args], { cwd: ROOT, env, timeout: 45_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const windowSync = async (window: object): Promise<WindowSyncReport> => {
  const res = await api.post('/api/v1/erp/window-sync', { window, by: 'ana', waitSeconds: 30 });
  expect(res.status).toBe(200);
  expect(res.data.done).toBe(true);
  return res.data.report as WindowSyncReport;
};
const row = (r: WindowSyncReport, number: string) => r.rows.find((x) => x.invoiceNumber === number);

let a: Synced;
let b: Synced;
let unknownNumber: string;

beforeAll(async () => {
  // The watcher reads the ledger once at start, then sleeps: payments made in the ERP wait for a window sync.
  s = await startErpStack({ settings: { polling: { erpLedgerInterval: '1h' } } });
  api = axios.create({ baseURL: s.apiUrl, headers: { authorization: `Bearer ${s.config.env.API_TOKEN}` }, validateStatus: () => true });
  a = await postSynced(s, 'C10000', '200.00');
  b = await postSynced(s, 'C20000', '75.50');
  // C30000 is not opted in: its invoice never reaches the portal.
  unknownNumber = s.bc.admin.postInvoice({ customerNumber: 'C30000', lines: [{ description: 'Framing', quantity: 1, unitPrice: '40.00' }] }).number;
  // Business Central's notifications stop (the subscription is gone), so not even a payment in full reaches the watcher.
  await s.t.client.workflow.getHandle(bcSubscriptionWorkflowId(s.ops.companyId, 'salesInvoices')).terminate('the window sync catches up without notifications');
  await s.bc.admin.flushNotifications();
  for (const sub of await s.deps.bc.listSubscriptions()) await s.deps.bc.deleteSubscription(sub.subscriptionId);
  // Let a notification already on its way wake the watcher one last time before the payments are made.
  await eventually(async () => {
    const polls = (await erpWatcherState(s.ops)).polls;
    await new Promise((r) => setTimeout(r, 1000));
    return (await erpWatcherState(s.ops)).polls === polls;
  }, 20000, 'the ERP watcher asleep');
}, 90000);
afterAll(async () => {
  if (s) await removeSchedules(s.ops).catch(() => undefined);
  await s?.close();
});

describe('window sync', () => {
  it('brings paid amounts and date paid in line, reports the unknown invoice and carries on; a rerun changes nothing', async () => {
    s.bc.admin.recordPayment({ invoiceNumber: a.number, amount: '60.00', postingDate: '2025-05-02' });
    s.bc.admin.recordPayment({ invoiceNumber: b.number, amount: '75.50', postingDate: '2025-05-03' });
    s.bc.admin.recordPayment({ invoiceNumber: unknownNumber, amount: '10.00' });
    // Nothing reached the portal yet (the watcher sleeps).
    expect((await portalInvoice(s, a.portalInvoiceId)).balance.minor).toBe(a.totalMinor);

    const first = await windowSync({ kind: 'past_week' });
    expect(first.window).toMatchObject({ kind: 'past_week', fellBack: false });
    expect(row(first, a.number)).toMatchObject({ status: 'changed', erpPaidMinor: usd('60.00'), portalPaidMinor: usd('60.00'), datePaid: null });
    expect(row(first, b.number)).toMatchObject({ status: 'changed', erpPaidMinor: b.totalMinor, portalPaidMinor: b.totalMinor, datePaid: '2025-05-03' });
    expect(row(first, a.number)!.detail).toBe('the ERP shows more paid than the portal: recorded 60.00 USD');
    expect(row(first, unknownNumber)).toMatchObject({ status: 'not_in_portal' });
    expect(row(first, unknownNumber)!.detail).toContain('could not be found in the portal');
    expect(first.summary).toMatchObject({ invoices: 3, changed: 2, alreadyRight: 0, notInPortal: 1, notDone: 0 });
    expect(first.lastRunRecorded).toBe(true);
    expect((await portalInvoice(s, a.portalInvoiceId)).balance.minor).toBe(a.totalMinor - usd('60.00'));
    expect((await portalInvoice(s, b.portalInvoiceId)).status).toBe('paid');

    // The same window again: everything already right, no new portal payment.
    const paymentsBefore = [...(await paymentsOn(s, a)), ...(await paymentsOn(s, b))].length;
    const second = await windowSync({ kind: 'past_week' });
    expect(second.rows.filter((r) => r.status === 'changed')).toEqual([]);
    // Found in line: listed by number, without a row each; the portal still says what the first run made it say.
    expect([...second.inSyncInvoices].sort()).toEqual([a.number, b.number].sort());
    expect(row(second, a.number)).toBeUndefined();
    expect(second.summary).toMatchObject({ invoices: 3, changed: 0, alreadyRight: 2, notInPortal: 1, notDone: 0 });
    expect((await portalInvoice(s, a.portalInvoiceId)).balance.minor).toBe(a.totalMinor - usd('60.00'));
    expect(await portalInvoice(s, b.portalInvoiceId)).toMatchObject({ status: 'paid', paidToDate: { minor: b.totalMinor, currency: 'USD' } });
    expect(row(second, unknownNumber)?.status).toBe('not_in_portal');
    expect([...(await paymentsOn(s, a)), ...(await paymentsOn(s, b))].length).toBe(paymentsBefore);

    // The runs are workflows, findable in the Temporal UI.
    const runs = [];
    for await (const wf of s.t.client.workflow.list({ query: `WorkflowType = 'windowSync' AND TaskQueue = '${s.config.env.TEMPORAL_TASK_QUEUE}'` })) runs.push(wf.workflowId);
    expect(runs).toEqual(expect.arrayContaining([first.workflowId, second.workflowId]));
  });

  it('"last successful run" starts where the last successful run started, kept by the ERP watcher', async () => {
    const before = await erpWatcherState(s.ops);
    expect(before.lastWindowSync).not.toBeNull();
    s.bc.admin.recordPayment({ invoiceNumber: a.number, amount: '40.00' });
    const run = await windowSync({ kind: 'last_successful_run' });
    expect(run.window).toMatchObject({ kind: 'last_successful_run', startIso: new Date(before.lastWindowSync!.atMs).toISOString() });
    // Only what changed since then: invoice A.
    expect(run.rows.map((r) => [r.invoiceNumber, r.status])).toEqual([[a.number, 'changed']]);
    expect((await portalInvoice(s, a.portalInvoiceId)).balance.minor).toBe(a.totalMinor - usd('100.00'));
    expect((await erpWatcherState(s.ops)).lastWindowSync!.atMs).toBeGreaterThan(before.lastWindowSync!.atMs);
  });

  it('refuses a window that cannot be computed, naming the problem', async () => {
    const future = await api.post('/api/v1/erp/window-sync', { window: { kind: 'custom', date: '2999-01-01' }, by: 'ana' });
    expect(future.status).toBe(400);
    expect(future.data.message).toMatch(/after today/);
    const bad = await api.post('/api/v1/erp/window-sync', { window: { kind: 'past_year' }, by: 'ana' });
    expect(bad.status).toBe(400);
    expect(bad.data.issues[0].field).toBe('window.kind');
  });

  it('runs from the CLI with a table or JSON, and exits 2 on a bad window', async () => {
    const json = await arsync('erp', 'window-sync', '--window', 'custom', '--date', today(), '--by', 'ana', '--json');
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const res = JSON.parse(json.stdout) as { done: boolean; report: WindowSyncReport };
    expect(res.done).toBe(true);
    expect(res.report.rows.filter((r) => r.status === 'changed')).toEqual([]);
    expect(res.report.inSyncInvoices).toContain(a.number);

    const text = await arsync('erp', 'report', res.report.workflowId);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/INVOICE\s+CUSTOMER\s+STATUS\s+ERP PAID\s+PORTAL PAID\s+DATE PAID/);
    expect(text.stdout).toContain(b.number);

    const bad = await arsync('erp', 'window-sync', '--window', 'yesterday', '--by', 'ana');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--window');
  });

  it('runs on a Temporal Schedule; setting it up again updates it', async () => {
    const created = await setupSchedules(s.ops);
    expect(created.map((x) => x.status)).toEqual(['created', 'created']);
    // Over the API as docs/erp-payments.md gives it: no body needed, a stray field refused by name.
    const updated = await api.post('/api/v1/schedules/setup', { windowSyncEvery: '12h' });
    expect(updated.status).toBe(200);
    expect(updated.data.schedules.map((x: { status: string }) => x.status)).toEqual(['updated', 'updated']);
    const stray = await api.post('/api/v1/erp/watcher/poll', { who: 'ana' });
    expect(stray.status).toBe(400);
    expect(JSON.stringify(stray.data)).toContain('who');
    const handle = s.t.client.schedule.getHandle(windowSyncScheduleId(s.ops.companyId));
    const d = await handle.describe();
    expect(d.spec.intervals?.[0]?.every).toBe(12 * 3_600_000);

    s.bc.admin.recordPayment({ invoiceNumber: a.number, amount: '25.00' });
    await handle.trigger();
    const run = await eventually(async () => {
      for await (const wf of s.t.client.workflow.list({ query: `WorkflowType = 'windowSync' AND WorkflowId STARTS_WITH '${windowSyncScheduleId(s.ops.companyId)}:scheduled' AND ExecutionStatus = 'Completed'` })) {
        return wf.workflowId;
      }
      return null;
    }, 20000, 'the scheduled window sync');
    const report = (await s.t.client.workflow.getHandle(run).result()) as WindowSyncReport;
    expect(report.by).toBe('schedule');
    expect(report.window?.kind).toBe('last_successful_run');
    expect(row(report, a.number)).toMatchObject({ status: 'changed', portalPaidMinor: usd('125.00') });
    // A watcher poll needs no body either (it wakes the watcher, which reads the ledger at once).
    const bare = await fetch(`${s.apiUrl}/api/v1/erp/watcher/poll`, { method: 'POST', headers: { authorization: `Bearer ${s.config.env.API_TOKEN}` } });
    expect(bare.status).toBe(202);
  });
});

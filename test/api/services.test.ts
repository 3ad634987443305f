import { execFile } from 'node:child_process';
import path from 'node:path';
import axios from 'axios';
import { removeSchedules } from '../../src/operations/schedules';
import type { ServicesReport } from '../../src/operations/services';
import { bcSubscriptionWorkflowId, driftSweepScheduleId, erpWatcherWorkflowId, portalWatcherWorkflowId, windowSyncScheduleId } from '../../workflows/ids';
import { HARNESS } from '../support/stackEnv';
import { eventually, startStack, type TestStack } from '../support/stack';

// A production deployment starts the services with `arsync services start` (or POST /api/v1/services/start), not the
// demo bootstrap: run twice from the CLI and once more through the API against the embedded stack, everything is
// started or registered once, and nothing demo is done.

const ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
let s: TestStack;

beforeAll(async () => {
  s = await startStack();
}, 90000);
afterAll(async () => {
  if (s) await removeSchedules(s.ops).catch(() => undefined);
  await s?.close();
});

/** The CLI as an operator runs it, with the stack's configuration in its environment. */
function arsync(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const e = s.config.env;
  const env = {
    ...process.env,
    ARSYNC_SETTINGS_FILE: e.ARSYNC_SETTINGS_FILE,
    TEMPORAL_ADDRESS: e.TEMPORAL_ADDRESS,
    TEMPORAL_NAMESPACE: e.TEMPORAL_NAMESPACE,
    TEMPORAL_TASK_QUEUE: e.TEMPORAL_TASK_QUEUE,
    BC_BASE_URL: e.BC_BASE_URL,
    BC_TOKEN_URL: e.BC_TOKEN_URL,
    BC_COMPANY_ID: e.BC_COMPANY_ID,
    INVOICE_NINJA_TOKEN: e.INVOICE_NINJA_TOKEN,
    API_PUBLIC_URL: e.API_PUBLIC_URL,
    LOG_LEVEL: 'silent',
  };
  return new Promise((resolve) => {
    execFile(TSX, ['src/cli/main.ts', ...args], { cwd: ROOT, env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function cliStart(): Promise<ServicesReport> {
  const run = await arsync('services', 'start', '--json');
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as ServicesReport;
}

describe('arsync services start', () => {
  it('registers the portal webhooks and starts every service workflow and Schedule once, however often it runs', async () => {
    const companyId = s.ops.companyId;
    const workflowIds = [portalWatcherWorkflowId('default'), bcSubscriptionWorkflowId(companyId, 'salesInvoices'), erpWatcherWorkflowId(companyId)];
    const events = ['create_payment', 'update_payment', 'delete_payment', 'restore_payment'];

    const first = await cliStart();
    expect(first.webhooks).toEqual(events.map((event) => ({ connection: 'default', event, status: 'created' })));
    expect(first.workflows).toEqual(workflowIds.map((workflowId) => ({ workflowId, status: 'started' })));
    expect(first.schedules.map((x) => [x.scheduleId, x.status])).toEqual([
      [windowSyncScheduleId(companyId), 'created'],
      [driftSweepScheduleId(companyId), 'created'],
    ]);
    const runIds = await Promise.all(workflowIds.map(async (id) => (await s.t.client.workflow.getHandle(id).describe()).runId));

    const second = await cliStart();
    expect(second.webhooks.map((w) => w.status)).toEqual(events.map(() => 'kept'));
    expect(second.workflows).toEqual(workflowIds.map((workflowId) => ({ workflowId, status: 'running' })));
    expect(second.schedules.map((x) => x.status)).toEqual(['kept', 'kept']);

    // The API route runs the same operation.
    const viaApi = await axios.post(`${s.apiUrl}/api/v1/services/start`, { by: 'ops' }, { headers: { authorization: `Bearer ${s.config.env.API_TOKEN}` }, validateStatus: () => true });
    expect(viaApi.status).toBe(200);
    expect((viaApi.data as ServicesReport).workflows.map((w) => w.status)).toEqual(['running', 'running', 'running']);
    expect((viaApi.data as ServicesReport).webhooks.map((w) => w.status)).toEqual(events.map(() => 'kept'));

    // Each service workflow runs once, on this stack's task queue: the run the first start made.
    for (const [i, id] of workflowIds.entries()) {
      const d = await s.t.client.workflow.getHandle(id).describe();
      expect([d.runId, d.status.name, d.taskQueue]).toEqual([runIds[i], 'RUNNING', s.config.env.TEMPORAL_TASK_QUEUE]);
      await eventually(async () => {
        let n = 0;
        for await (const _ of s.t.client.workflow.list({ query: `WorkflowId = '${id}' AND ExecutionStatus = 'Running'` })) n++;
        return n === 1;
      }, 10000, `one running ${id}`);
    }
    // The portal holds one webhook per payment event, read from the sandbox itself, with our secret header.
    const hooks = await axios.get(`${s.portal.url}/api/v1/webhooks`, { params: { per_page: 100 }, headers: { 'X-API-TOKEN': HARNESS.portalToken } });
    const ours = (hooks.data.data as Array<{ target_url: string; is_deleted: boolean; headers: Record<string, string> }>).filter((w) => w.target_url.startsWith(s.config.env.API_PUBLIC_URL));
    expect(ours.map((w) => w.target_url).sort()).toEqual(events.map((e) => `${s.config.env.API_PUBLIC_URL}/webhooks/invoice-ninja/default/${e}`).sort());
    expect(ours.every((w) => !w.is_deleted && Object.values(w.headers).includes(s.config.env.PORTAL_WEBHOOK_SECRET))).toBe(true);
    // The BC subscription workflow made one subscription; no demo customer was opted in.
    await eventually(async () => (await s.deps.bc.listSubscriptions()).length === 1, 20000, 'the BC subscription');
    expect(await s.deps.portals.client('default').findClientByNumber('C10000')).toBeNull();
  });

  it('a rotated webhook secret: the next start rewrites each webhook\'s secret header, and the portal\'s deliveries are taken again', async () => {
    const portalApi = axios.create({ baseURL: `${s.portal.url}/api/v1`, headers: { 'X-API-TOKEN': HARNESS.portalToken }, validateStatus: () => true });
    type Hook = { id: string; event_id: string; target_url: string; headers: Record<string, string>; is_deleted: boolean };
    const ours = async () => ((await portalApi.get('/webhooks', { params: { per_page: 100 } })).data.data as Hook[]).filter((w) => w.target_url.startsWith(s.config.env.API_PUBLIC_URL) && !w.is_deleted);
    // Registered under the secret before the rotation (its header name in another case, another header beside it).
    for (const w of await ours()) {
      const put = await portalApi.put(`/webhooks/${w.id}`, { target_url: w.target_url, event_id: w.event_id, headers: { 'X-Arsync-Webhook-Secret': 'the-secret-before-rotation', 'X-Trace': 'kept' } });
      expect(put.status).toBe(200);
    }
    /** A delivery with the headers the portal would send for `w`, of a body our endpoint can only refuse on its merits. */
    const deliver = (w: Hook) => axios.post(w.target_url, {}, { headers: w.headers, validateStatus: () => true });
    expect((await Promise.all((await ours()).map(deliver))).map((r) => r.status)).toEqual([401, 401, 401, 401]);

    const started = await cliStart();
    expect(started.webhooks.map((w) => w.status)).toEqual(['updated', 'updated', 'updated', 'updated']);
    const rewritten = await ours();
    expect(rewritten).toHaveLength(4);
    for (const w of rewritten) expect(w.headers).toEqual({ 'X-Trace': 'kept', 'x-arsync-webhook-secret': s.config.env.PORTAL_WEBHOOK_SECRET });
    // Past the secret check: the empty body is refused for what it is.
    expect((await Promise.all(rewritten.map(deliver))).map((r) => r.status)).toEqual([422, 422, 422, 422]);
    expect((await cliStart()).webhooks.map((w) => w.status)).toEqual(['kept', 'kept', 'kept', 'kept']);
  });
});

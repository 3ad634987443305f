import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { InvoiceNumber } from '../../src/temporal/searchAttributes';
import { invoiceWorkflowId } from '../../workflows/ids';
import { connectTemporal, uniqueTaskQueue, type TestTemporal } from '../support/temporal';

// The `arsync` CLI as a user runs it: a child process talking to the real Temporal dev server directly.

const ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const companyId = randomUUID();
const taskQueue = uniqueTaskQueue('cli');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function arsync(...args: string[]): Promise<Run> {
  const env = { ...process.env, TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE: taskQueue, BC_COMPANY_ID: companyId, LOG_LEVEL: 'silent' };
  return new Promise((resolve) => {
    execFile(TSX, ['src/cli/main.ts', ...args], { cwd: ROOT, env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let t: TestTemporal;
beforeAll(async () => {
  t = await connectTemporal();
});
afterAll(async () => {
  if (t) {
    for await (const wf of t.client.workflow.list({ query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'` })) {
      await t.client.workflow.getHandle(wf.workflowId).terminate('test finished');
    }
    await t.close();
  }
});

describe('arsync CLI', () => {
  it('exits 2 naming the bad argument', async () => {
    const channel = await arsync('invoice', 'send-link', '103001', '--channel', 'fax', '--by', 'ana');
    expect(channel.code).toBe(2);
    expect(channel.stderr).toContain('--channel');
    expect(channel.stderr).toContain('fax');

    const action = await arsync('payment', 'resolve', 'default', 'pay1', '--action', 'refund_it', '--by', 'ana', '--why', 'dup');
    expect(action.code).toBe(2);
    expect(action.stderr).toMatch(/--action: .*apply_to_invoice/);

    const who = await arsync('payment', 'resolve', 'default', 'pay1', '--action', 'skip', '--why', 'dup');
    expect(who.code).toBe(2);
    expect(who.stderr).toContain('--by');

    const missing = await arsync('invoice', 'start');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('numbers');
  });

  it('starts invoices and lists them; an unknown invoice exits 1 with its number', async () => {
    const start = await arsync('invoice', 'start', 'C-200', 'C-201', '--json');
    expect(start.stderr).toBe('');
    expect(start.code).toBe(0);
    expect(JSON.parse(start.stdout)).toEqual([
      { invoiceNumber: 'C-200', outcome: 'accepted', workflowId: invoiceWorkflowId(companyId, 'C-200') },
      { invoiceNumber: 'C-201', outcome: 'accepted', workflowId: invoiceWorkflowId(companyId, 'C-201') },
    ]);
    const described = await t.client.workflow.getHandle(invoiceWorkflowId(companyId, 'C-200')).describe();
    expect(described.taskQueue).toBe(taskQueue);
    expect(described.typedSearchAttributes.get(InvoiceNumber)).toBe('C-200');

    // Visibility is eventually consistent: give the list a moment.
    let rows: Array<{ invoiceNumber: string; stage: string; runId: string }> = [];
    for (let attempt = 0; attempt < 5 && rows.length < 2; attempt++) {
      const list = await arsync('invoice', 'list', '--json');
      expect(list.code).toBe(0);
      rows = JSON.parse(list.stdout);
    }
    expect(rows.map((r) => r.invoiceNumber).sort()).toEqual(['C-200', 'C-201']);
    expect(rows.find((r) => r.invoiceNumber === 'C-200')).toMatchObject({ stage: 'syncing', runId: described.runId });

    const table = await arsync('invoice', 'list', '--stage', 'syncing');
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^INVOICE\s+CUSTOMER\s+STAGE/);
    expect(table.stdout).toMatch(/C-201\s+-\s+syncing/);

    const unknown = await arsync('invoice', 'show', 'NO-SUCH');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('invoice NO-SUCH is not known');
  });
});

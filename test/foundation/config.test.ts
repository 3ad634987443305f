import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load';
import { STACK_SERVICES, workerHeapEnv } from '../../src/stack/services';

const ROOT = path.resolve(__dirname, '../..');

function settingsFile(content: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-config-'));
  const file = path.join(dir, 'settings.json');
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('configuration', () => {
  it('loads the embedded defaults with no settings file', () => {
    const config = loadConfig({});
    expect(config.env.TEMPORAL_ADDRESS).toBe('127.0.0.1:7233');
    expect(config.settings.payments.journalBatch).toBe('ARSYNC');
    expect(config.settings.connections.default.url).toBe('http://127.0.0.1:4020');
    // Defaults of a section left out are parsed, so the section's own defaults fill it.
    expect(config.settings.connections.default).toMatchObject({ ratePerMinute: 800, maxConcurrent: 8 });
    expect(config.settings.polling).toEqual({ paymentsInterval: '1m', viewsInterval: '10s', erpLedgerInterval: '30s', driftSweepInterval: '1d', bcSubscriptionCheckInterval: '15m', firstPollLookback: '1d' });
    expect(config.settings.links).toMatchObject({ channels: ['email', 'sms'], sendOnSync: true, staffEmail: 'ar@cronus.example' });
    expect(config.env.TEMPORAL_TLS).toBe(false);
    expect(config.env.SMTP_SECURE).toBe(false);
    expect(config.settings.requireEmailAddress).toBe(true);
    expect(config.settings.customValues).toHaveLength(4);
  });

  it("gives npm start's worker a 256 MiB heap limit by default, on top of NODE_OPTIONS, and none for 0", () => {
    expect(loadConfig({}).env.WORKER_HEAP_MB).toBe(256);
    expect(() => loadConfig({ WORKER_HEAP_MB: '-1' })).toThrow(/env\.WORKER_HEAP_MB:/);
    const worker = STACK_SERVICES(loadConfig({ WORKER_HEAP_MB: '384' }), 'data').find((svc) => svc.name === 'worker')!;
    expect(worker.env?.NODE_OPTIONS).toMatch(/(^| )--max-old-space-size=384$/);
    expect(workerHeapEnv(0)).toEqual({});
  });

  it('merges a settings file over the defaults', () => {
    const file = settingsFile({ payments: { journalBatch: 'WEB', disallowOverpayments: false }, links: { channels: ['sms'] } });
    const config = loadConfig({ ARSYNC_SETTINGS_FILE: file });
    expect(config.settings.payments.journalBatch).toBe('WEB');
    expect(config.settings.payments.disallowOverpayments).toBe(false);
    expect(config.settings.payments.paymentMethodCode).toBe('CARD');
    expect(config.settings.links.channels).toEqual(['sms']);
  });

  it('names every bad field, one line each', () => {
    const file = settingsFile({
      payments: { adjustmentWindow: 'soon', journalBatch: '' },
      connections: { byPostingGroup: { EXPORT: { url: 'not a url', tokenEnv: 'EXPORT_TOKEN' } } },
      customValues: [{ erpField: 'totalAmountIncludingTax' }, { erpField: 'shortcutDimension1Code' }, null, null],
      recurringInvoices: { erpField: 'externalDocumentNumber', pattern: '(REC' },
      surprise: true,
    });
    let error: unknown;
    try {
      loadConfig({ ARSYNC_SETTINGS_FILE: file, API_PORT: 'eighty' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/payments\.adjustmentWindow: a duration/);
    expect(problems).toMatch(/payments\.journalBatch:/);
    expect(problems).toMatch(/connections\.byPostingGroup\.EXPORT\.url:/);
    expect(problems).toMatch(/Unrecognized key.*surprise/);
    // A custom value names a field arsync reads, or the field would be blank on every invoice.
    expect(problems).toMatch(/customValues\.1\.erpField: one of number, externalDocumentNumber, .*totalAmountIncludingTax/);
    expect(problems).not.toMatch(/customValues\.0/);
    expect(problems).toMatch(/recurringInvoices\.pattern: a regular expression/);
    expect(problems).toMatch(/env\.API_PORT:/);
  });

  it('requires the token variable of every portal connection', () => {
    const file = settingsFile({ connections: { byPostingGroup: { EXPORT: { url: 'http://127.0.0.1:4021', tokenEnv: 'EXPORT_TOKEN' } } } });
    expect(() => loadConfig({ ARSYNC_SETTINGS_FILE: file })).toThrow(/env\.EXPORT_TOKEN: required by portal connection/);
    expect(loadConfig({ ARSYNC_SETTINGS_FILE: file, EXPORT_TOKEN: 'x' }).settings.connections.byPostingGroup.EXPORT.url).toBe(
      'http://127.0.0.1:4021',
    );
  });

  it('reports an unreadable settings file', () => {
    expect(() => loadConfig({ ARSYNC_SETTINGS_FILE: settingsFile('{ not json') })).toThrow(/ARSYNC_SETTINGS_FILE .*JSON/);
  });

  it('makes a process exit non-zero naming the bad field', () => {
    const file = settingsFile({ payments: { feeAccountNo: 42 } });
    const res = spawnSync(path.join(ROOT, 'node_modules/.bin/tsx'), [path.join(ROOT, 'src/http/main.ts')], {
      env: { ...process.env, ARSYNC_SETTINGS_FILE: file },
      encoding: 'utf8',
      timeout: 30000,
    });
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/invalid configuration/);
    expect(res.stderr).toMatch(/payments\.feeAccountNo: Invalid input: expected string, received number/);
  });
});

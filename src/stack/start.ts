import fs from 'node:fs';
import path from 'node:path';
import { loadConfigOrExit } from '../config/load';
import { devServerArgs, waitForTemporal } from '../temporal/devServer';
import { temporalCliPath } from '../temporal/binaries';
import { createTemporalClient } from '../temporal/connection';
import { registerSearchAttributes } from '../temporal/setup';
import { buildWorkflowBundle } from '../worker/bundle';
import { portIsFree } from './ports';
import { ProcessGroup } from './processes';
import { STACK_SERVICES, type StackService } from './services';
import { bootstrapDemo } from './bootstrap';

// `npm start`: the whole embedded stack as child processes with prefixed logs. State lives in .data/, so a second
// run picks up where the first stopped. Ctrl-C stops every child.
const ROOT = path.resolve(__dirname, '../..');
const DATA = path.join(ROOT, '.data');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

async function main() {
  const config = loadConfigOrExit();
  const temporalPort = Number(config.env.TEMPORAL_ADDRESS.split(':').pop());
  const uiPort = Number(new URL(config.env.TEMPORAL_UI_URL).port);
  const services: StackService[] = STACK_SERVICES(config, DATA);

  const wanted = [
    { what: 'Temporal frontend', port: temporalPort },
    { what: 'Temporal UI', port: uiPort },
    ...services.flatMap((s) => s.ports.map((port) => ({ what: s.name, port }))),
  ];
  const busy: string[] = [];
  for (const w of wanted) if (!(await portIsFree(w.port))) busy.push(`port ${w.port} (${w.what}) is already in use`);
  if (busy.length > 0) {
    console.error(`arsync start: cannot start, ${busy.join('; ')}.\nStop whatever holds it (an earlier "npm start"?) or change the port in the environment.`);
    process.exit(1);
  }

  fs.mkdirSync(DATA, { recursive: true });
  const bundle = await buildWorkflowBundle();
  const group = new ProcessGroup();
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\narsync: stopping every process…');
    await group.stopAll();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  const temporal = group.start('temporal', temporalCliPath(), devServerArgs({ port: temporalPort, uiPort, dbFile: path.join(DATA, 'temporal.db') }));
  void temporal.exited.then(() => void stop(1));
  await waitForTemporal(config.env.TEMPORAL_ADDRESS, 60000);
  await registerNewSearchAttributes(config);

  for (const s of services) {
    const proc = group.start(s.name, TSX, [path.join(ROOT, s.entry)], { ...s.env, ARSYNC_WORKFLOW_BUNDLE: bundle });
    void proc.exited.then((code) => {
      if (!stopping) console.error(`arsync: ${s.name} stopped (code ${code}); stopping the stack.`);
      void stop(1);
    });
  }
  for (const s of services) if (s.ready) await s.ready();

  const demo = await bootstrapDemo(config);
  printUrls(config, services, demo);
}

/**
 * The dev server registers the flagged search attributes only when it creates its database: a `.data/temporal.db` from
 * an earlier version lacks the ones added since, and a workflow indexing one would fail its task. Added before the
 * worker starts (idempotent).
 */
async function registerNewSearchAttributes(config: ReturnType<typeof loadConfigOrExit>) {
  const client = await createTemporalClient(config.env);
  try {
    const added = await registerSearchAttributes(client, config.env.TEMPORAL_NAMESPACE);
    if (added.length) console.log(`arsync: registered search attributes added since .data/temporal.db was made: ${added.join(', ')}`);
  } finally {
    await client.connection.close();
  }
}

function printUrls(config: ReturnType<typeof loadConfigOrExit>, services: StackService[], demo: string[]) {
  const lines = [
    '',
    '  arsync is running. Ctrl-C stops everything; state is kept in .data/.',
    '',
    `  Temporal UI          ${config.env.TEMPORAL_UI_URL}`,
    `  Temporal frontend    ${config.env.TEMPORAL_ADDRESS}`,
    ...services.flatMap((s) => s.urls.map(([label, url]) => `  ${label.padEnd(20)} ${url}`)),
    ...(demo.length ? ['', ...demo.map((l) => `  ${l}`)] : []),
    '',
  ];
  console.log(lines.join('\n'));
}

main().catch((err) => {
  console.error(`arsync start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

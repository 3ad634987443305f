import { spawn } from 'node:child_process';
import path from 'node:path';
import { temporalCliPath } from '../../src/temporal/binaries';
import { devServerArgs, waitForTemporal } from '../../src/temporal/devServer';
import { freePort } from '../../src/stack/ports';
import { buildWorkflowBundle } from '../../src/worker/bundle';

// One real Temporal dev server (in-memory, search attributes by flag) and one workflow bundle for the whole run.
// A missing binary fails the run with the install instructions; nothing is skipped.
export default async function globalSetup(): Promise<void> {
  const cli = temporalCliPath();
  const port = await freePort();
  const child = spawn(cli, devServerArgs({ port }), { stdio: ['ignore', 'ignore', 'inherit'], detached: false });
  (globalThis as Record<string, unknown>).__TEMPORAL_DEV_SERVER__ = child;
  const address = `127.0.0.1:${port}`;
  const bundle = buildWorkflowBundle(path.resolve(__dirname, '../../dist/test-workflow-bundle.js'));
  await waitForTemporal(address, 60000);
  process.env.TEMPORAL_ADDRESS = address;
  process.env.TEMPORAL_NAMESPACE = 'default';
  process.env.ARSYNC_WORKFLOW_BUNDLE = await bundle;
}

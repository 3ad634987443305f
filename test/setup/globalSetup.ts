import path from 'node:path';
import { temporalCliPath } from '../../src/temporal/binaries';
import { startOwnTemporal } from '../../src/temporal/ownDevServer';
import { buildWorkflowBundle } from '../../src/worker/bundle';

// One real Temporal dev server (in-memory, search attributes by flag) and one workflow bundle for the whole run.
// A missing binary fails the run with the install instructions (temporalCliPath); nothing is skipped.
export default async function globalSetup(): Promise<void> {
  temporalCliPath();
  const bundle = buildWorkflowBundle(path.resolve(__dirname, '../../dist/test-workflow-bundle.js'));
  const temporal = await startOwnTemporal();
  (globalThis as Record<string, unknown>).__TEMPORAL_DEV_SERVER__ = temporal.child;
  process.env.TEMPORAL_ADDRESS = temporal.address;
  process.env.TEMPORAL_NAMESPACE = 'default';
  process.env.ARSYNC_WORKFLOW_BUNDLE = await bundle;
}

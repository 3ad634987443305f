import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

export const WORKFLOWS_PATH = path.resolve(__dirname, '../../workflows/index.ts');
export const DEFAULT_BUNDLE_PATH = path.resolve(__dirname, '../../dist/workflow-bundle.js');

/**
 * Builds the workflow bundle once (webpack + swc) and writes it where workers load it from.
 *
 * The workflow modules are preloaded: evaluated once when the worker's reusable V8 context starts, then shared (and
 * frozen) by every run, instead of evaluated again for each new run. That is safe because they keep no state of their
 * own at module level (constants, message definitions and activity proxies only; every run's state lives inside the
 * workflow function), and it saves the evaluation on every workflow start and every replay of an evicted workflow.
 */
export async function buildWorkflowBundle(outFile = DEFAULT_BUNDLE_PATH): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, preloadModules: [WORKFLOWS_PATH], logger: quietLogger });
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, code);
  return outFile;
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error, log: noop };

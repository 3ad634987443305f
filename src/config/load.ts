import fs from 'node:fs';
import { z } from 'zod';
import { envSchema, type Env } from './env';
import { settingsSchema, type Settings } from './settings';

export interface Config {
  env: Env;
  settings: Settings;
}

/** A configuration problem, one line per bad field. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

function describe(prefix: string, error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const field = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    return `${field}: ${issue.message}`;
  });
}

export function parseSettings(raw: unknown, source = 'settings'): Settings {
  const result = settingsSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(describe(source, result.error));
  return result.data;
}

/** Reads and validates the environment and the settings file it names. Throws ConfigError listing every bad field. */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const envResult = envSchema.safeParse(environment);
  if (!envResult.success) problems.push(...describe('env', envResult.error));

  let settings: Settings | undefined;
  const file = environment.ARSYNC_SETTINGS_FILE;
  let raw: unknown = {};
  if (file) {
    try {
      raw = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      problems.push(`ARSYNC_SETTINGS_FILE (${file}): ${(err as Error).message}`);
    }
  }
  const settingsResult = settingsSchema.safeParse(raw);
  if (settingsResult.success) settings = settingsResult.data;
  else problems.push(...describe(file ? `settings(${file})` : 'settings', settingsResult.error));

  if (settings && envResult.success) {
    const connections = [settings.connections.default, ...Object.values(settings.connections.byPostingGroup)];
    const withDefaults: Record<string, unknown> = { ...environment, ...envResult.data };
    for (const c of connections) {
      if (!withDefaults[c.tokenEnv]) problems.push(`env.${c.tokenEnv}: required by portal connection ${c.url}`);
    }
  }
  if (problems.length > 0 || !settings || !envResult.success) throw new ConfigError(problems);
  return { env: envResult.data, settings };
}

/** For entrypoints: load or print one line per bad field and exit non-zero. */
export function loadConfigOrExit(environment: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(environment);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

import type { Config } from '../config/load';

/** Seeds the demo and returns lines to print (filled in once the sandboxes and workflows exist). */
export async function bootstrapDemo(_config: Config): Promise<string[]> {
  return [];
}

import { createInvoiceNinjaClient, type InvoiceNinjaClient } from '../adapters/invoiceNinja';
import type { Config } from '../config/load';
import type { PortalDirectory } from '../../activities/deps';
import { DEFAULT_CONNECTION } from '../../workflows/ids';

/**
 * The portal connections from settings: the default one and one per customer posting group with its own URL and token
 * ("Use Customer-Specific Connections"). One client (and so one rate limiter) per connection.
 */
export function createPortalDirectory(config: Config): PortalDirectory {
  const { connections } = config.settings;
  const byKey = new Map<string, InvoiceNinjaClient>();
  const definitions = new Map([[DEFAULT_CONNECTION, connections.default], ...Object.entries(connections.byPostingGroup)]);
  const env = process.env as Record<string, string | undefined>;
  const tokenOf = (name: string) => env[name] ?? (config.env as unknown as Record<string, string | undefined>)[name];
  return {
    keyFor(postingGroup) {
      return postingGroup && connections.byPostingGroup[postingGroup] ? postingGroup : DEFAULT_CONNECTION;
    },
    client(key) {
      let c = byKey.get(key);
      if (!c) {
        const def = definitions.get(key);
        if (!def) throw new Error(`no portal connection "${key}" in settings`);
        c = createInvoiceNinjaClient({ baseUrl: def.url, apiToken: tokenOf(def.tokenEnv) ?? '', ratePerMinute: def.ratePerMinute, maxConcurrent: def.maxConcurrent });
        byKey.set(key, c);
      }
      return c;
    },
    keys: () => [...definitions.keys()],
  };
}

import { createBusinessCentralClient, type BusinessCentralClient } from '../adapters/businessCentral';
import type { Logger } from '../observability/logger';
import type { Config } from './load';

/**
 * The Business Central client for the configured environment and company (worker and API alike). `limits` override the
 * adapter's client-side quota (1,200 requests/min, 5 in flight: Business Central's per-user limits), e.g. for benchmarks.
 * Customer posting groups are read only when a portal connection is chosen by one: the custom API page that exposes
 * them is then needed, and otherwise not.
 */
export function businessCentralFromConfig(
  config: Config,
  logger?: Logger,
  limits: { ratePerMinute?: number; maxConcurrent?: number } = {},
): BusinessCentralClient {
  const { env } = config;
  return createBusinessCentralClient(
    {
      baseUrl: env.BC_BASE_URL,
      tenantId: env.BC_TENANT_ID,
      environment: env.BC_ENVIRONMENT,
      companyId: env.BC_COMPANY_ID,
      tokenUrl: env.BC_TOKEN_URL,
      clientId: env.BC_CLIENT_ID,
      clientSecret: env.BC_CLIENT_SECRET,
      scope: env.BC_SCOPE,
      ...(Object.keys(config.settings.connections.byPostingGroup).length === 0 ? { postingGroupApi: null } : {}),
      ...limits,
    },
    { logger },
  );
}

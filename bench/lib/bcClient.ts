import { createBusinessCentralClient, type BusinessCentralClient } from '../../src/adapters/businessCentral';
import type { Env } from '../../src/config/env';
import type { Logger } from '../../src/observability/logger';

export interface BcLimits {
  ratePerMinute: number;
  maxConcurrent: number;
}

/**
 * The production Business Central client for the configured environment with other client-side limits. The product
 * takes them from the adapter's defaults (1,200 requests/min and 5 in flight: Business Central's per-user quota); the
 * bench can lift them to see what the rest of the system does.
 */
export function bcClientWithLimits(env: Env, limits: BcLimits, logger?: Logger): BusinessCentralClient {
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
      ...limits,
    },
    { logger },
  );
}

import type { BusinessCentralClient } from '../../src/adapters/businessCentral';
import { businessCentralFromConfig } from '../../src/config/clients';
import type { Config } from '../../src/config/load';
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
export function bcClientWithLimits(config: Config, limits: BcLimits, logger?: Logger): BusinessCentralClient {
  return businessCentralFromConfig(config, logger, limits);
}

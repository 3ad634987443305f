/**
 * Business Central client-side limits the bench runs with (`businessCentralFromConfig`'s `limits`). The product takes
 * them from the adapter's defaults (1,200 requests/min and 5 in flight: Business Central's per-user quota); the bench
 * can lift them to see what the rest of the system does.
 */
export interface BcLimits {
  ratePerMinute: number;
  maxConcurrent: number;
}

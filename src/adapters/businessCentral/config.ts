import { z } from 'zod';
import type { RetryOptions } from '../http/retry';

// Connection settings for one Business Central environment and company. Everything comes from configuration: the
// same code talks to Business Central online and to the sandbox.

export interface BusinessCentralConfig {
  /** e.g. https://api.businesscentral.dynamics.com */
  baseUrl: string;
  /** Entra tenant (GUID or domain) used in the direct-tenant API URL. */
  tenantId: string;
  /** Environment name, e.g. production */
  environment: string;
  companyId: string;
  /** e.g. https://login.microsoftonline.com/{tenantId}/oauth2/v2.0/token */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** e.g. https://api.businesscentral.dynamics.com/.default */
  scope: string;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  /** Requests in flight per environment (BC: 5 per user before queueing). */
  maxConcurrent?: number;
  /** Requests per minute per environment (BC: 6,000 per 5 minutes = 1,200/min). */
  ratePerMinute?: number;
  /** In-process retries of transient failures before the error goes up to Temporal. */
  retry?: Partial<RetryOptions>;
  /**
   * Publisher/group/version of the custom API page that exposes Customer Posting Group (default arsync/finance/v1.0);
   * null: posting groups are not read (no connection is chosen by posting group, and the page need not be installed).
   */
  postingGroupApi?: string | null;
}

const configSchema = z.object({
  baseUrl: z.url(),
  tenantId: z.string().min(1),
  environment: z.string().min(1),
  companyId: z.guid('must be a company GUID'),
  tokenUrl: z.url(),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  scope: z.string().min(1),
  timeoutMs: z.number().int().positive().optional(),
  maxConcurrent: z.number().int().positive().optional(),
  ratePerMinute: z.number().int().positive().optional(),
  postingGroupApi: z.string().regex(/^[\w.-]+\/[\w.-]+\/[\w.-]+$/, 'must be publisher/group/version').nullable().optional(),
});

/** Validates the configuration (naming the bad field) without echoing the secret. */
export function checkConfig(cfg: BusinessCentralConfig): BusinessCentralConfig {
  const r = configSchema.safeParse(cfg);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`Business Central configuration: ${i.path.join('.')} ${i.message}`);
  }
  return { ...cfg, baseUrl: cfg.baseUrl.replace(/\/+$/, ''), companyId: cfg.companyId.toLowerCase() };
}

export const DEFAULTS = { timeoutMs: 30_000, maxConcurrent: 5, ratePerMinute: 1_200, postingGroupApi: 'arsync/finance/v1.0' } as const;

import type { BusinessCentralClient } from '../src/adapters/businessCentral';
import type { EmailSender } from '../src/adapters/notify/email';
import type { SmsSender } from '../src/adapters/notify/sms';
import type { InvoiceNinjaClient } from '../src/adapters/invoiceNinja';
import type { Env } from '../src/config/env';
import type { Settings } from '../src/config/settings';
import type { Logger } from '../src/observability/logger';
import type { Target } from '../src/temporal/starters';

/** The portal connections: the default one and one per customer posting group that has its own. */
export interface PortalDirectory {
  /** Connection key for a customer posting group: the group's own connection if configured, else the default. */
  keyFor(postingGroup: string | null | undefined): string;
  client(connectionKey: string): InvoiceNinjaClient;
  keys(): string[];
}

/** Everything an activity needs from the outside world, injected once by the worker wiring (src/worker/deps.ts). */
export interface ActivityDeps {
  settings: Settings;
  env: Env;
  bc: BusinessCentralClient;
  portals: PortalDirectory;
  email: EmailSender;
  sms: SmsSender;
  /** For activities that start or message other workflows (intake, customer and journal coordination). */
  temporal: Target;
  logger: Logger;
}

import { IN_EVENT } from '../adapters/invoiceNinja';
import { durationMs } from '../config/duration';
import { PORTAL_WEBHOOK_EVENTS, PORTAL_WEBHOOK_SECRET_HEADER } from '../http/routes/portalWebhook';
import type { PortalDirectory } from '../../activities/deps';
import { bcSubscription } from '../../workflows/bcSubscription';
import { bcSubscriptionWorkflowId, portalWatcherWorkflowId } from '../../workflows/ids';
import { portalWatcher } from '../../workflows/portalWatcher';
import type { OpsContext } from './context';
import { startErpWatcher } from './erpSync';
import { setupSchedules, type ScheduleSetup } from './schedules';
import { startOnce, type ServiceWorkflow } from './startOnce';

const EVENT_IDS: Record<(typeof PORTAL_WEBHOOK_EVENTS)[number], number> = {
  create_payment: IN_EVENT.CREATE_PAYMENT,
  update_payment: IN_EVENT.UPDATE_PAYMENT,
  delete_payment: IN_EVENT.DELETE_PAYMENT,
  restore_payment: IN_EVENT.RESTORE_PAYMENT,
};

type WebhookStatus = 'created' | 'kept' | 'restored' | 'updated';

/**
 * Registers our payment webhooks on every portal connection (idempotent: existing ones are kept or restored). One whose
 * secret header is not the current `PORTAL_WEBHOOK_SECRET` (the secret was rotated) is rewritten with it: its deliveries
 * would all be refused, leaving the payments to the poller.
 */
export async function registerPortalWebhooks(ctx: OpsContext, portals: PortalDirectory): Promise<Array<{ connection: string; event: string; status: WebhookStatus }>> {
  const base = ctx.config.env.API_PUBLIC_URL.replace(/\/$/, '');
  const secret = ctx.config.env.PORTAL_WEBHOOK_SECRET;
  const out: Array<{ connection: string; event: string; status: WebhookStatus }> = [];
  for (const key of portals.keys()) {
    const portal = portals.client(key);
    const existing = await portal.listWebhooks();
    for (const event of PORTAL_WEBHOOK_EVENTS) {
      const targetUrl = `${base}/webhooks/invoice-ninja/${key}/${event}`;
      const found = existing.find((w) => w.targetUrl === targetUrl && w.eventId === EVENT_IDS[event] && !w.isDeleted);
      if (!found) {
        await portal.createWebhook(EVENT_IDS[event], targetUrl, { [PORTAL_WEBHOOK_SECRET_HEADER]: secret });
        out.push({ connection: key, event, status: 'created' });
        continue;
      }
      if (found.isArchived) await portal.restoreWebhooks([found.id]);
      const stale = headerOf(found.headers, PORTAL_WEBHOOK_SECRET_HEADER) !== secret;
      if (stale) await portal.updateWebhook(found.id, EVENT_IDS[event], targetUrl, { ...withoutHeader(found.headers, PORTAL_WEBHOOK_SECRET_HEADER), [PORTAL_WEBHOOK_SECRET_HEADER]: secret });
      out.push({ connection: key, event, status: stale ? 'updated' : found.isArchived ? 'restored' : 'kept' });
    }
  }
  return out;
}

/** A header's value from a stored map, whatever the case of its name (HTTP header names are caseless). */
function headerOf(headers: Record<string, string>, name: string): string | undefined {
  return Object.entries(headers).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
}

/** The map without that header, in any case. */
function withoutHeader(headers: Record<string, string>, name: string): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== name.toLowerCase()));
}

/** Starts the long-running service workflows (portal pollers, the BC subscription, the ERP watcher) unless they run. */
export async function startServiceWorkflows(ctx: OpsContext, portals: PortalDirectory): Promise<ServiceWorkflow[]> {
  const { settings } = ctx.config;
  const out: ServiceWorkflow[] = [];
  for (const key of portals.keys()) {
    out.push(
      await startOnce(ctx, portalWatcher, {
        taskQueue: ctx.taskQueue,
        workflowId: portalWatcherWorkflowId(key),
        args: [
          {
            companyId: ctx.companyId,
            connectionKey: key,
            viewsIntervalMs: durationMs(settings.polling.viewsInterval),
            paymentsIntervalMs: durationMs(settings.polling.paymentsInterval),
            // Used by a first start only: a running watcher keeps its own cursor.
            startFromSeconds: Math.floor((Date.now() - durationMs(settings.polling.firstPollLookback)) / 1000),
          },
        ],
      }),
    );
  }
  out.push(
    await startOnce(ctx, bcSubscription, {
      taskQueue: ctx.taskQueue,
      workflowId: bcSubscriptionWorkflowId(ctx.companyId, 'salesInvoices'),
      args: [
        {
          companyId: ctx.companyId,
          resource: 'salesInvoices',
          renewBeforeMs: 12 * 3_600_000,
          checkEveryMs: durationMs(settings.polling.bcSubscriptionCheckInterval),
        },
      ],
    }),
  );
  out.push(await startErpWatcher(ctx));
  return out;
}

export interface ServicesReport {
  webhooks: Array<{ connection: string; event: string; status: WebhookStatus }>;
  workflows: ServiceWorkflow[];
  schedules: ScheduleSetup[];
}

/**
 * Everything a deployment runs besides invoices and payments, for the configured connections: the portal webhooks,
 * the service workflows and the Schedules. Idempotent: what exists or runs is left as it is (`arsync schedule setup`
 * changes the schedules in place), so a deployment runs it on every release. The demo bootstrap runs it too.
 */
export async function startServices(ctx: OpsContext, portals: PortalDirectory): Promise<ServicesReport> {
  const webhooks = await registerPortalWebhooks(ctx, portals);
  const workflows = await startServiceWorkflows(ctx, portals);
  const schedules = await setupSchedules(ctx, { keepExisting: true });
  return { webhooks, workflows, schedules };
}

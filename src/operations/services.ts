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

/** Registers our payment webhooks on every portal connection (idempotent: existing ones are kept or restored). */
export async function registerPortalWebhooks(ctx: OpsContext, portals: PortalDirectory): Promise<Array<{ connection: string; event: string; status: 'created' | 'kept' | 'restored' }>> {
  const base = ctx.config.env.API_PUBLIC_URL.replace(/\/$/, '');
  const out: Array<{ connection: string; event: string; status: 'created' | 'kept' | 'restored' }> = [];
  for (const key of portals.keys()) {
    const portal = portals.client(key);
    const existing = await portal.listWebhooks();
    for (const event of PORTAL_WEBHOOK_EVENTS) {
      const targetUrl = `${base}/webhooks/invoice-ninja/${key}/${event}`;
      const found = existing.find((w) => w.targetUrl === targetUrl && w.eventId === EVENT_IDS[event] && !w.isDeleted);
      if (found && !found.isArchived) out.push({ connection: key, event, status: 'kept' });
      else if (found) {
        await portal.restoreWebhooks([found.id]);
        out.push({ connection: key, event, status: 'restored' });
      } else {
        await portal.createWebhook(EVENT_IDS[event], targetUrl, { [PORTAL_WEBHOOK_SECRET_HEADER]: ctx.config.env.PORTAL_WEBHOOK_SECRET });
        out.push({ connection: key, event, status: 'created' });
      }
    }
  }
  return out;
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
  webhooks: Array<{ connection: string; event: string; status: 'created' | 'kept' | 'restored' }>;
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

import { createCoordinationActivities } from './coordination';
import type { ActivityDeps } from './deps';
import { createErpActivities } from './erp';
import { createErpMirrorActivities } from './erpMirror';
import { createErpResetActivities } from './erpReset';
import { createIntakeActivities } from './intake';
import { createInvoiceSyncActivities } from './invoiceSync';
import { createJournalActivities } from './journal';
import { createNotificationActivities } from './notifications';
import { createPortalActivities } from './portal';
import { createSubscriptionActivities } from './subscriptions';
import { createSystemActivities } from './system';

export type { ActivityDeps } from './deps';

/** Every activity, built from the injected clients. */
export function createActivities(deps: ActivityDeps) {
  const names: string[] = [];
  const activities = {
    ...createSystemActivities(() => names),
    ...createErpActivities(deps),
    ...createPortalActivities(deps),
    ...createInvoiceSyncActivities(deps),
    ...createIntakeActivities(deps),
    ...createJournalActivities(deps),
    ...createCoordinationActivities(deps),
    ...createNotificationActivities(deps),
    ...createSubscriptionActivities(deps),
    ...createErpMirrorActivities(deps),
    ...createErpResetActivities(deps),
  };
  names.push(...Object.keys(activities).sort());
  return activities;
}

export type Activities = ReturnType<typeof createActivities>;

import { ExternalServiceError } from '../src/adapters/http/errors';
import type { ActivityDeps } from './deps';
import { classified } from './failures';

export const BC_WEBHOOK_PATH = '/webhooks/business-central';

export function createSubscriptionActivities(deps: ActivityDeps) {
  const notificationUrl = () => `${deps.env.API_PUBLIC_URL.replace(/\/$/, '')}${BC_WEBHOOK_PATH}`;
  return {
    /** Creates the subscription (Business Central first runs the validation-token handshake against our endpoint). */
    async createBcSubscription({ resource }: { companyId: string; resource: string }): Promise<{ subscriptionId: string; expiresAt: string }> {
      return classified(async () => {
        // One subscription per resource and URL: reuse an existing one rather than stacking duplicates.
        const existing = (await deps.bc.listSubscriptions()).find((s) => s.notificationUrl === notificationUrl() && s.resource.endsWith(`/${resource}`));
        const sub =
          existing ??
          (await deps.bc.createSubscription({ notificationUrl: notificationUrl(), entitySet: resource, clientState: deps.env.BC_WEBHOOK_CLIENT_STATE }));
        return { subscriptionId: sub.subscriptionId, expiresAt: sub.expirationDateTime };
      });
    },

    async renewBcSubscription({ subscriptionId }: { companyId: string; subscriptionId: string; resource: string }): Promise<{ status: 'renewed'; expiresAt: string } | { status: 'gone' }> {
      return classified(async () => {
        try {
          const sub = await deps.bc.renewSubscription(subscriptionId);
          return { status: 'renewed', expiresAt: sub.expirationDateTime };
        } catch (err) {
          if (err instanceof ExternalServiceError && err.status === 404) return { status: 'gone' };
          throw err;
        }
      });
    },
  };
}

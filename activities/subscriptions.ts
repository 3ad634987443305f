import { ExternalServiceError } from '../src/adapters/http/errors';
import { onErpInvoicesChanged } from '../src/operations/erpInvoiceChanged';
import type { ActivityDeps } from './deps';
import { classified } from './failures';

export const BC_WEBHOOK_PATH = '/webhooks/business-central';

/** Invoices started or signalled at once by a catch-up. */
const CATCH_UP_CONCURRENCY = 8;

export function createSubscriptionActivities(deps: ActivityDeps) {
  const notificationUrl = () => `${deps.env.API_PUBLIC_URL.replace(/\/$/, '')}${BC_WEBHOOK_PATH}`;
  return {
    /** Creates the subscription (Business Central first runs the validation-token handshake against our endpoint). */
    async createBcSubscription({ resource }: { companyId: string; resource: string }): Promise<{ subscriptionId: string; expiresAt: string }> {
      return classified(async () => {
        const clientState = deps.env.BC_WEBHOOK_CLIENT_STATE;
        // One subscription per resource and URL: reuse an existing one rather than stacking duplicates. One made with
        // another clientState (the secret was rotated) is renewed with ours first: its notifications would be refused
        // (401), and Business Central drops a subscription at its endpoint's first 4xx.
        const existing = (await deps.bc.listSubscriptions()).find((s) => s.notificationUrl === notificationUrl() && s.resource.endsWith(`/${resource}`));
        const sub = !existing
          ? await deps.bc.createSubscription({ notificationUrl: notificationUrl(), entitySet: resource, clientState })
          : existing.clientState === clientState
            ? existing
            : await deps.bc.renewSubscription(existing.subscriptionId, { etag: existing.etag, clientState });
        return { subscriptionId: sub.subscriptionId, expiresAt: sub.expirationDateTime };
      });
    },

    /** Whether Business Central still has the subscription: it deletes one whose endpoint failed. */
    async bcSubscriptionAlive({ subscriptionId }: { companyId: string; subscriptionId: string }): Promise<boolean> {
      return classified(async () => (await deps.bc.getSubscription(subscriptionId)) !== null);
    },

    /**
     * What the notifications of a dropped subscription would have said: every sales invoice changed since `sinceIso`,
     * acted on as its notification would have been (a posted one starts its workflow: starting twice is harmless).
     */
    async catchUpInvoices({ companyId, sinceIso }: { companyId: string; sinceIso: string }): Promise<{ invoices: number; posted: number }> {
      return classified(async () => {
        const changed = await deps.bc.listSalesInvoices({ modifiedSince: sinceIso, lines: false });
        const done = await onErpInvoicesChanged(deps, companyId, changed, CATCH_UP_CONCURRENCY);
        return { invoices: changed.length, posted: done.filter((r) => r.posted).length };
      });
    },

    async renewBcSubscription({ subscriptionId }: { companyId: string; subscriptionId: string; resource: string }): Promise<{ status: 'renewed'; expiresAt: string } | { status: 'gone' }> {
      return classified(async () => {
        try {
          // With our clientState: a rotated secret reaches the subscription at its next renewal at the latest.
          const sub = await deps.bc.renewSubscription(subscriptionId, { clientState: deps.env.BC_WEBHOOK_CLIENT_STATE });
          return { status: 'renewed', expiresAt: sub.expirationDateTime };
        } catch (err) {
          if (err instanceof ExternalServiceError && err.status === 404) return { status: 'gone' };
          throw err;
        }
      });
    },
  };
}

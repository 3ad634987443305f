import { setOptIn } from '../../src/operations/customers';
import { registerPortalWebhooks, startServiceWorkflows } from '../../src/operations/services';
import { eventually, startStack, type StackOptions, type TestStack } from './stack';

// A stack brought to where `npm start` leaves the product: portal webhooks registered (unless a test wants the
// poll-only path), pollers and the BC subscription running, demo customers opted in. Shared by the end-to-end suites.

export interface ReadyStackOptions extends StackOptions {
  /** Register the portal's payment webhooks (default true). */
  webhooks?: boolean;
  /** Runs before the set-up that needs a worker (e.g. starts a worker process when `worker: false`). */
  beforeSetup?: (s: TestStack) => Promise<void>;
}

export async function startReadyStack(opts: ReadyStackOptions = {}): Promise<TestStack> {
  const s = await startStack(opts);
  try {
    await opts.beforeSetup?.(s);
    if (opts.webhooks !== false) await registerPortalWebhooks(s.ops, s.deps.portals);
    await startServiceWorkflows(s.ops, s.deps.portals);
    await setOptIn(s.ops, ['C10000', 'C20000'], { optedIn: true, by: 'test' });
    await eventually(async () => (await s.deps.bc.listSubscriptions()).length > 0, 20000, 'the BC subscription');
  } catch (err) {
    await s.close();
    throw err;
  }
  return s;
}

export interface BothSides {
  number: string;
  portalClientId: string;
  totalMinor: number;
  portalInvoiceId: string;
  invitationKey: string;
}

/** Posts an invoice in the sandbox ERP (one untaxed line) and waits until arsync has put it in the portal. */
export async function postErpInvoice(s: TestStack, customerNumber: string, amount: string, timeoutMs = 15000): Promise<BothSides> {
  const erp = s.bc.admin.postInvoice({ customerNumber, lines: [{ description: 'Services', quantity: 1, unitPrice: amount, taxPercent: 0 }] });
  return portalSide(s, erp.number, timeoutMs);
}

/** The portal invoice arsync made for an ERP invoice, once it exists with an invitation. */
export async function portalSide(s: TestStack, number: string, timeoutMs = 15000): Promise<BothSides> {
  const portal = s.deps.portals.client('default');
  const inv = await eventually(async () => {
    const found = await portal.findInvoiceByNumber(number);
    return found && found.invitations.length > 0 && found;
  }, timeoutMs, `portal invoice ${number}`);
  return { number, portalClientId: inv.clientId, totalMinor: inv.amount.minor, portalInvoiceId: inv.id, invitationKey: inv.invitations[0]!.key };
}

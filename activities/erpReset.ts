import type { InClient } from '../src/adapters/invoiceNinja';
import { parseMirrorReference, ERP_REFERENCE_PREFIX } from '../src/domain/erpMirror';
import type { ActivityDeps } from './deps';
import { classified } from './failures';

// "Modify Sync Status" for an application (a payment or credit memo made in the ERP and mirrored in the portal): the
// portal payments arsync recorded for the ledger entry (`erp:<entry>`, `erp:<entry>.<n>`) are deleted, so the portal
// no longer shows it and the next sync of the entry (`erp sync`, the window sync, the drift sweep) records it afresh,
// under the next generation's reference (the portal keeps a deleted payment's key for ever).

export interface ErpResetRow {
  entryNumber: number;
  /** deleted: these portal payments were deleted; not_in_portal: none is there; not_found: the ERP has no such entry. */
  status: 'deleted' | 'not_in_portal' | 'not_found';
  customerNumber: string | null;
  payments: Array<{ connection: string; portalPaymentId: string; reference: string; amountMinor: number; currency: string; invoiceIds: string[] }>;
}

/** Whether a portal payment's reference is one of this entry's generations (`erp:<entry>`, `erp:<entry>.<n>`). */
const isGenerationOf = (entryNumber: number) => (reference: string) => {
  const parsed = parseMirrorReference(reference);
  return parsed?.kind === 'entry' && parsed.entryNumber === entryNumber;
};

export function createErpResetActivities(deps: ActivityDeps) {
  const { bc, portals } = deps;
  return {
    /**
     * Deletes what the portal shows of these ledger entries (every connection the customer has a client on). Safe to
     * retry: a payment deleted by an earlier attempt is not listed again, and the entry then reads `not_in_portal`.
     */
    async resetErpApplications(input: { companyId: string; entries: number[] }): Promise<ErpResetRow[]> {
      return classified(async () => {
        const found = await bc.findEntriesByEntryNumbers(input.entries);
        // One lookup per customer and connection, however many of its entries are reset.
        const clients = new Map<string, Promise<InClient | null>>();
        const clientOf = (connection: string, customerNumber: string) => {
          const key = `${connection}\n${customerNumber}`;
          if (!clients.has(key)) clients.set(key, portals.client(connection).findClientByNumber(customerNumber));
          return clients.get(key)!;
        };
        const rows: ErpResetRow[] = [];
        for (const entryNumber of [...new Set(input.entries)]) {
          const entry = found.find((e) => e.entryNumber === entryNumber);
          if (!entry) {
            rows.push({ entryNumber, status: 'not_found', customerNumber: null, payments: [] });
            continue;
          }
          const row: ErpResetRow = { entryNumber, status: 'not_in_portal', customerNumber: entry.customerNumber, payments: [] };
          for (const connection of portals.keys()) {
            const portal = portals.client(connection);
            const client = await clientOf(connection, entry.customerNumber);
            if (!client) continue;
            const mirrored = await portal.findPaymentsByReference(client.id, isGenerationOf(entryNumber), `${ERP_REFERENCE_PREFIX}${entryNumber}`);
            for (const p of mirrored.filter((x) => !x.isDeleted && x.status !== 'cancelled')) {
              await portal.deletePayment(p.id);
              row.payments.push({ connection, portalPaymentId: p.id, reference: p.transactionReference, amountMinor: p.amount.minor, currency: p.currency, invoiceIds: p.invoices.map((i) => i.invoiceId) });
            }
          }
          if (row.payments.length) row.status = 'deleted';
          rows.push(row);
        }
        return rows;
      });
    },
  };
}

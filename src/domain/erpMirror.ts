/**
 * Payments made in the ERP, mirrored in the portal: which portal payments to record or reduce so the portal balance of each
 * synced invoice follows the ERP, and under which idempotency key.
 *
 * Business Central's standard API has no link from a payment (or credit memo) ledger entry to the invoice it was applied to
 * (contracts/business-central.md §2.7, §5). What it does give (§4): the customer ledger entries modified since a watermark
 * (invoice entries move on every application and unapplication, and so do the payment entries applied), and each invoice's
 * remaining amount. So the amounts come from the balances and the keys from the entries:
 *
 *   1. Per invoice, the two balances are compared (src/domain/drift.ts) after taking portal payments into account that are
 *      on their way to the ERP or were reversed after posting (the caller computes both). `heal_portal` means the ERP has
 *      applications the portal lacks; `heal_erp` means the portal shows more paid than the ERP.
 *   2. What the portal lacks is attributed to the customer's ERP-side credit entries (payments and credit memos that did not
 *      come from the portal), up to what each entry has not yet been mirrored for. Business Central modifies the invoice's
 *      entry and the credit's entry in the same posting, so an entry changed at the same instant as the invoice's is taken
 *      first; one changed together with other invoices only belongs to those and is never taken; the rest (nothing changed
 *      with it in what was read) come last. Within each group closed entries go before open ones (an open one may be money
 *      just unapplied), then lowest entry number first. One portal
 *      payment per entry, applied to every invoice it covers, keyed `erp:<entry number>`; a later application of the same
 *      entry (after an unapplication, or of its remainder) gets the next generation, `erp:<entry number>.<n>`, because the
 *      portal keeps an idempotency key forever, even for a deleted payment.
 *   3. What no listed entry explains is recorded only when the policy allows it (window sync, drift sweep), keyed by the
 *      invoice's own ledger entry; the watcher leaves it unresolved rather than guess.
 *   4. When the portal shows more paid, mirrored payments on that invoice that the policy says the ERP unapplied are reduced,
 *      newest first: a payment reduced to nothing on every invoice is deleted, otherwise refunded for the invoice's part.
 *      Whatever mirrored payments cannot explain is left unresolved (the drift sweep reports it).
 *
 * Every amount is bounded by the balance difference, so replaying a plan after it was carried out finds nothing to do; the keys
 * stop a concurrent duplicate.
 */

import type { DriftDecision } from './drift';

export const ERP_REFERENCE_PREFIX = 'erp:';
/** The reference of the portal payment for an amount paid when the invoice was posted (src/domain/taxRounding.ts). */
export const PAID_AT_POSTING_PREFIX = 'paid-at-posting:';

export function mirrorReference(entryNumber: number, generation = 1): string {
  if (!Number.isInteger(entryNumber) || entryNumber <= 0) throw new RangeError(`not a ledger entry number: ${entryNumber}`);
  if (!Number.isInteger(generation) || generation < 1) throw new RangeError(`not a generation: ${generation}`);
  return generation === 1 ? `${ERP_REFERENCE_PREFIX}${entryNumber}` : `${ERP_REFERENCE_PREFIX}${entryNumber}.${generation}`;
}

export type ParsedReference =
  | { kind: 'entry'; entryNumber: number; generation: number }
  | { kind: 'paid_at_posting'; invoiceNumber: string };

export function parseMirrorReference(reference: string): ParsedReference | null {
  const m = /^erp:(\d+)(?:\.(\d+))?$/.exec(reference);
  if (m) return { kind: 'entry', entryNumber: Number(m[1]), generation: m[2] ? Number(m[2]) : 1 };
  if (reference.startsWith(PAID_AT_POSTING_PREFIX) && reference.length > PAID_AT_POSTING_PREFIX.length) {
    return { kind: 'paid_at_posting', invoiceNumber: reference.slice(PAID_AT_POSTING_PREFIX.length) };
  }
  return null;
}

/** A payment or credit memo entered in the ERP (not one arsync posted for a portal payment). */
export interface ErpCredit {
  entryNumber: number;
  documentType: string;
  documentNumber: string;
  /** YYYY-MM-DD */
  postingDate: string;
  /** Positive: what the entry credits the customer. */
  amountMinor: number;
  /** Business Central's `open`: some of it is not applied to anything. */
  open: boolean;
  /** Invoices whose ledger entries changed at the same instant as this one (applied or unapplied together). */
  comodified?: readonly string[];
}

/** A portal payment arsync recorded from the ERP (`erp:` or `paid-at-posting:` reference). */
export interface MirroredPayment {
  paymentId: string;
  reference: string;
  /** Not deleted, voided or fully refunded. */
  live: boolean;
  /** For ordering: newer payments are reduced first. */
  createdAt: number;
  /** Net amount (applied − refunded) per invoice number, while live. */
  applied: Record<string, number>;
}

export type MirrorDecision = DriftDecision | { kind: 'deferred'; detail: string };

export interface MirrorInvoice {
  invoiceNumber: string;
  /** The invoice's own ledger entry number: amounts no credit entry explains are keyed by it. */
  invoiceEntryNumber: number;
  decision: MirrorDecision;
}

export interface MirrorPolicy {
  /** Record what no credit entry explains, keyed by the invoice's own entry (window sync, drift sweep). */
  attributeRemainder: boolean;
  /**
   * Whether a mirrored payment may be reduced because the ERP shows less paid. `entry` is its credit entry when the family
   * names one that is listed; `family` is the ledger entry its key names (null for paid-at-posting without a listed entry).
   */
  reducible: (p: MirroredPayment, family: { entryNumber: number | null; credit: ErpCredit | undefined; byInvoiceEntry: boolean }) => boolean;
  /** YYYY-MM-DD: the date of records no credit entry dates. */
  today: string;
  /** Only these entry numbers are recorded or reduced ("sync selected"); all when absent. */
  onlyEntries?: ReadonlySet<number>;
}

export interface Allocation {
  invoiceNumber: string;
  amountMinor: number;
}

export interface PlannedRecord {
  reference: string;
  entryNumber: number;
  /** The credit entry behind it, or null when keyed by the invoice's own entry. */
  credit: ErpCredit | null;
  date: string;
  description: string;
  allocations: Allocation[];
  amountMinor: number;
}

export interface PlannedRemoval {
  paymentId: string;
  reference: string;
  entryNumber: number | null;
  /** Reduced to nothing on every invoice: delete rather than refund. */
  whole: boolean;
  allocations: Allocation[];
  amountMinor: number;
}

export interface InvoiceMirrorOutcome {
  invoiceNumber: string;
  decision: MirrorDecision;
  recordedMinor: number;
  removedMinor: number;
  /** What this plan leaves different between the two balances. */
  unresolvedMinor: number;
}

export interface MirrorPlan {
  records: PlannedRecord[];
  removals: PlannedRemoval[];
  outcomes: InvoiceMirrorOutcome[];
}

const sum = (xs: Iterable<number>) => {
  let s = 0;
  for (const x of xs) s += x;
  return s;
};

export function planMirror(invoices: readonly MirrorInvoice[], credits: readonly ErpCredit[], mirrored: readonly MirroredPayment[], policy: MirrorPolicy): MirrorPlan {
  for (const c of credits) {
    if (!Number.isInteger(c.amountMinor) || c.amountMinor <= 0) throw new RangeError(`credit entry ${c.entryNumber} must credit a positive amount, got ${c.amountMinor}`);
  }
  const creditByEntry = new Map(credits.map((c) => [c.entryNumber, c]));
  const invoiceEntries = new Set(invoices.map((i) => i.invoiceEntryNumber));
  const allowed = (entryNumber: number | null) => !policy.onlyEntries || (entryNumber !== null && policy.onlyEntries.has(entryNumber));

  // The ledger entry each mirrored payment stands for: its key's entry, or for paid-at-posting the payment entry posted
  // with the invoice (Business Central gives it the invoice's document number).
  const familyOf = (p: MirroredPayment): number | null => {
    const ref = parseMirrorReference(p.reference);
    if (!ref) return null;
    if (ref.kind === 'entry') return ref.entryNumber;
    return credits.find((c) => c.documentNumber === ref.invoiceNumber && c.documentType === 'Payment')?.entryNumber ?? null;
  };
  const generations = new Map<number, number>();
  const mirroredByEntry = new Map<number, number>();
  for (const p of mirrored) {
    const ref = parseMirrorReference(p.reference);
    if (ref?.kind === 'entry') generations.set(ref.entryNumber, Math.max(generations.get(ref.entryNumber) ?? 0, ref.generation));
    const family = familyOf(p);
    if (family !== null && p.live) mirroredByEntry.set(family, (mirroredByEntry.get(family) ?? 0) + sum(Object.values(p.applied)));
  }
  const nextReference = (entryNumber: number) => {
    const g = (generations.get(entryNumber) ?? 0) + 1;
    generations.set(entryNumber, g);
    return mirrorReference(entryNumber, g);
  };

  const available = new Map<number, number>();
  for (const c of credits) {
    if (allowed(c.entryNumber)) available.set(c.entryNumber, Math.max(0, c.amountMinor - (mirroredByEntry.get(c.entryNumber) ?? 0)));
  }
  // Closed entries first: all of their amount is applied somewhere. An open one may be unapplied money (e.g. a payment
  // just unapplied from this very invoice), so it only explains what the closed ones cannot.
  const byPreference = (a: ErpCredit, b: ErpCredit) => Number(a.open) - Number(b.open) || a.entryNumber - b.entryNumber;
  const candidatesFor = (invoiceNumber: string): ErpCredit[] => {
    const together = credits.filter((c) => c.comodified?.includes(invoiceNumber)).sort(byPreference);
    const unlinked = credits.filter((c) => !c.comodified?.length).sort(byPreference);
    return [...together, ...unlinked].filter((c) => available.has(c.entryNumber));
  };

  const outcomes = new Map<string, InvoiceMirrorOutcome>();
  for (const inv of invoices) outcomes.set(inv.invoiceNumber, { invoiceNumber: inv.invoiceNumber, decision: inv.decision, recordedMinor: 0, removedMinor: 0, unresolvedMinor: 0 });

  // Applications the portal lacks: one record per credit entry, spread over the invoices in ledger order.
  const byCredit = new Map<number, Allocation[]>();
  const records: PlannedRecord[] = [];
  const ordered = [...invoices].sort((a, b) => a.invoiceEntryNumber - b.invoiceEntryNumber);
  for (const inv of ordered) {
    if (inv.decision.kind !== 'heal_portal') continue;
    const out = outcomes.get(inv.invoiceNumber)!;
    let need = inv.decision.amountMinor;
    for (const { entryNumber } of candidatesFor(inv.invoiceNumber)) {
      if (need === 0) break;
      const left = available.get(entryNumber)!;
      const take = Math.min(need, left);
      if (take <= 0) continue;
      available.set(entryNumber, left - take);
      const list = byCredit.get(entryNumber) ?? [];
      list.push({ invoiceNumber: inv.invoiceNumber, amountMinor: take });
      byCredit.set(entryNumber, list);
      need -= take;
      out.recordedMinor += take;
    }
    if (need > 0 && policy.attributeRemainder && allowed(inv.invoiceEntryNumber)) {
      records.push({
        reference: nextReference(inv.invoiceEntryNumber),
        entryNumber: inv.invoiceEntryNumber,
        credit: null,
        date: policy.today,
        description: `ERP applications to invoice ${inv.invoiceNumber} (ledger entry ${inv.invoiceEntryNumber})`,
        allocations: [{ invoiceNumber: inv.invoiceNumber, amountMinor: need }],
        amountMinor: need,
      });
      out.recordedMinor += need;
      need = 0;
    }
    out.unresolvedMinor += need;
  }
  for (const [entryNumber, allocations] of byCredit) {
    const credit = creditByEntry.get(entryNumber)!;
    records.push({
      reference: nextReference(entryNumber),
      entryNumber,
      credit,
      date: credit.postingDate,
      description: `ERP ${credit.documentType} ${credit.documentNumber} (ledger entry ${entryNumber})`,
      allocations,
      amountMinor: sum(allocations.map((a) => a.amountMinor)),
    });
  }
  records.sort((a, b) => a.entryNumber - b.entryNumber);

  // The portal shows more paid: reduce what the ERP unapplied. A payment whose entry is open again first (Business
  // Central leaves an unapplied entry open; one still applied in full is closed), then the newest mirrored payment.
  const openAgain = (p: MirroredPayment) => {
    const family = familyOf(p);
    return family !== null && creditByEntry.get(family)?.open === true;
  };
  const cut = new Map<string, Allocation[]>();
  for (const inv of ordered) {
    if (inv.decision.kind !== 'heal_erp') continue;
    const out = outcomes.get(inv.invoiceNumber)!;
    let excess = inv.decision.amountMinor;
    const candidates = mirrored
      .filter((p) => p.live && (p.applied[inv.invoiceNumber] ?? 0) > 0)
      .filter((p) => {
        const family = familyOf(p);
        const credit = family === null ? undefined : creditByEntry.get(family);
        return allowed(family) && policy.reducible(p, { entryNumber: family, credit, byInvoiceEntry: family !== null && invoiceEntries.has(family) });
      })
      .sort((a, b) => Number(openAgain(b)) - Number(openAgain(a)) || b.createdAt - a.createdAt || (a.paymentId < b.paymentId ? 1 : -1));
    for (const p of candidates) {
      if (excess === 0) break;
      const take = Math.min(excess, p.applied[inv.invoiceNumber]);
      const list = cut.get(p.paymentId) ?? [];
      list.push({ invoiceNumber: inv.invoiceNumber, amountMinor: take });
      cut.set(p.paymentId, list);
      excess -= take;
      out.removedMinor += take;
    }
    out.unresolvedMinor += excess;
  }
  const removals: PlannedRemoval[] = [...cut].map(([paymentId, allocations]) => {
    const p = mirrored.find((m) => m.paymentId === paymentId)!;
    const amountMinor = sum(allocations.map((a) => a.amountMinor));
    return { paymentId, reference: p.reference, entryNumber: familyOf(p), whole: amountMinor === sum(Object.values(p.applied)), allocations, amountMinor };
  });

  for (const inv of invoices) {
    const out = outcomes.get(inv.invoiceNumber)!;
    if (inv.decision.kind !== 'heal_portal' && inv.decision.kind !== 'heal_erp') continue;
    if (out.recordedMinor + out.removedMinor + out.unresolvedMinor !== inv.decision.amountMinor) {
      throw new Error(`mirror plan for ${inv.invoiceNumber} does not add up`);
    }
  }
  return { records, removals, outcomes: invoices.map((i) => outcomes.get(i.invoiceNumber)!) };
}

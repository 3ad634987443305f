import {
  INVOICE_STAGES,
  InvoiceFacts,
  InvoiceStage,
  PAYMENT_STAGES,
  assertPaymentMove,
  canMovePayment,
  deriveInvoiceStage,
  isInvoiceStage,
  isPaymentStage,
  nextInvoiceStage,
} from '../../src/domain/stages';

const fresh: InvoiceFacts = {
  totalMinor: 10000,
  erpRemainingMinor: 10000,
  portalBalanceMinor: null,
  portalSynced: false,
  linkSent: false,
  viewed: false,
  paymentsPosted: 0,
  paymentsUnposted: 0,
  cancelled: false,
  attention: null,
};
const synced: InvoiceFacts = { ...fresh, portalSynced: true, portalBalanceMinor: 10000 };

describe('deriveInvoiceStage', () => {
  it.each<[string, InvoiceFacts, InvoiceStage]>([
    ['no portal invoice yet', fresh, 'syncing'],
    ['portal invoice exists', synced, 'synced'],
    ['link sent', { ...synced, linkSent: true }, 'link_sent'],
    ['viewed (even without a recorded send: the link was copied elsewhere)', { ...synced, viewed: true }, 'viewed'],
    ['portal balance reduced by a payment', { ...synced, viewed: true, portalBalanceMinor: 4000, paymentsUnposted: 1 }, 'partially_paid'],
    ['ERP remaining reduced by a payment made in the ERP', { ...synced, erpRemainingMinor: 6000 }, 'partially_paid'],
    ['partly paid at posting, before anything else happened', { ...synced, erpRemainingMinor: 2500, portalBalanceMinor: 2500 }, 'partially_paid'],
    ['a payment known but balances not read yet', { ...synced, paymentsUnposted: 1 }, 'partially_paid'],
    ['portal paid in full, ERP not yet posted', { ...synced, portalBalanceMinor: 0, paymentsUnposted: 1 }, 'paid'],
    ['ERP at zero while a payment is still posting', { ...synced, erpRemainingMinor: 0, portalBalanceMinor: 0, paymentsPosted: 1, paymentsUnposted: 1 }, 'paid'],
    ['ERP at zero, every payment posted', { ...synced, erpRemainingMinor: 0, portalBalanceMinor: 0, paymentsPosted: 2 }, 'posted'],
    ['paid in full inside the ERP', { ...synced, erpRemainingMinor: 0 }, 'posted'],
    ['attention wins over progress', { ...synced, erpRemainingMinor: 0, attention: 'drift' }, 'needs_attention'],
    ['missing email before sync', { ...fresh, attention: 'missing_email' }, 'needs_attention'],
    ['cancelled wins over everything', { ...synced, cancelled: true, attention: 'drift' }, 'cancelled'],
  ])('%s', (_label, facts, stage) => {
    expect(deriveInvoiceStage(facts)).toBe(stage);
  });
});

describe('nextInvoiceStage', () => {
  it('walks the whole happy path forward', () => {
    const steps: InvoiceFacts[] = [
      fresh,
      synced,
      { ...synced, linkSent: true },
      { ...synced, linkSent: true, viewed: true },
      { ...synced, linkSent: true, viewed: true, portalBalanceMinor: 4000, paymentsUnposted: 1 },
      { ...synced, linkSent: true, viewed: true, portalBalanceMinor: 0, erpRemainingMinor: 4000, paymentsPosted: 1, paymentsUnposted: 1 },
      { ...synced, linkSent: true, viewed: true, portalBalanceMinor: 0, erpRemainingMinor: 0, paymentsPosted: 2 },
    ];
    let stage: InvoiceStage | null = null;
    const seen: InvoiceStage[] = [];
    for (const f of steps) {
      const d = nextInvoiceStage(stage, f);
      expect(d.move).toBe('forward');
      stage = d.stage;
      seen.push(stage);
    }
    expect(seen).toEqual(['syncing', 'synced', 'link_sent', 'viewed', 'partially_paid', 'paid', 'posted']);
  });

  it('reports no move for the same stage', () => {
    expect(nextInvoiceStage('synced', synced)).toEqual({ stage: 'synced', move: 'none' });
  });

  it('never moves engagement stages backwards on a lower derivation', () => {
    expect(nextInvoiceStage('viewed', { ...synced, linkSent: true })).toEqual({ stage: 'viewed', move: 'held' });
    expect(nextInvoiceStage('link_sent', synced)).toEqual({ stage: 'link_sent', move: 'held' });
  });

  it('follows the money back when a payment is reversed', () => {
    const viewed = { ...synced, linkSent: true, viewed: true };
    expect(nextInvoiceStage('posted', { ...viewed, erpRemainingMinor: 4000, portalBalanceMinor: 4000, paymentsPosted: 1 })).toEqual({
      stage: 'partially_paid',
      move: 'backward',
    });
    // Fully voided: back to the engagement stage already reached, not lower.
    expect(nextInvoiceStage('partially_paid', viewed)).toEqual({ stage: 'viewed', move: 'backward' });
  });

  it('enters and leaves needs_attention', () => {
    const enter = nextInvoiceStage('link_sent', { ...synced, linkSent: true, attention: 'drift' });
    expect(enter).toEqual({ stage: 'needs_attention', move: 'forward' });
    expect(nextInvoiceStage('needs_attention', { ...synced, linkSent: true })).toEqual({ stage: 'link_sent', move: 'forward' });
    // A customer fixed after missing_email resumes syncing.
    expect(nextInvoiceStage('needs_attention', fresh).stage).toBe('syncing');
  });

  it('keeps cancelled terminal unless reset', () => {
    expect(nextInvoiceStage('cancelled', synced)).toEqual({ stage: 'cancelled', move: 'held' });
    expect(nextInvoiceStage('cancelled', synced, { reset: true })).toEqual({ stage: 'synced', move: 'backward' });
  });

  it('lets a reset start over', () => {
    expect(nextInvoiceStage('viewed', fresh, { reset: true })).toEqual({ stage: 'syncing', move: 'backward' });
  });

  it('never goes backwards outside the documented exceptions, over all pairs of stages', () => {
    const examples: Record<InvoiceStage, InvoiceFacts> = {
      syncing: fresh,
      synced,
      link_sent: { ...synced, linkSent: true },
      viewed: { ...synced, viewed: true },
      partially_paid: { ...synced, portalBalanceMinor: 5000 },
      paid: { ...synced, portalBalanceMinor: 0, paymentsUnposted: 1 },
      posted: { ...synced, erpRemainingMinor: 0, portalBalanceMinor: 0 },
      cancelled: { ...synced, cancelled: true },
      needs_attention: { ...synced, attention: 'drift' },
    };
    const progression = ['syncing', 'synced', 'link_sent', 'viewed', 'partially_paid', 'paid', 'posted'];
    for (const prev of INVOICE_STAGES) {
      for (const target of INVOICE_STAGES) {
        const d = nextInvoiceStage(prev, examples[target]);
        expect(deriveInvoiceStage(examples[target])).toBe(target);
        const lower = progression.indexOf(d.stage) < progression.indexOf(prev) && progression.includes(d.stage);
        if (lower) expect(['partially_paid', 'paid', 'posted', 'needs_attention']).toContain(prev);
        if (prev === 'cancelled') expect(d.stage).toBe('cancelled');
      }
    }
  });
});

describe('payment stages', () => {
  it('allows the documented forward paths', () => {
    const paths: string[][] = [
      ['staged', 'classified', 'applied', 'posted'],
      ['staged', 'pending', 'classified', 'applied', 'posted'],
      ['staged', 'classified', 'adjusted'],
      ['staged', 'classified', 'refunded'],
      ['staged', 'pending', 'skipped'],
      ['staged', 'classified', 'needs_attention', 'applied', 'posted'],
    ];
    for (const path of paths) {
      for (let i = 1; i < path.length; i++) expect(canMovePayment(path[i - 1] as never, path[i] as never)).toBe(true);
    }
  });

  it('allows reversal, overrides and retries, and nothing else backwards', () => {
    expect(canMovePayment('posted', 'refunded')).toBe(true);
    expect(canMovePayment('adjusted', 'refunded')).toBe(true);
    expect(canMovePayment('skipped', 'classified')).toBe(true);
    expect(canMovePayment('posted', 'staged')).toBe(false);
    expect(canMovePayment('applied', 'pending')).toBe(false);
    expect(canMovePayment('pending', 'posted')).toBe(false);
    expect(() => assertPaymentMove('refunded', 'posted')).toThrow('payment stage cannot move from refunded to posted');
    expect(() => assertPaymentMove('posted', 'posted')).not.toThrow();
  });

  it('lets every stage need attention and attention resolve to any other stage', () => {
    for (const s of PAYMENT_STAGES) {
      expect(canMovePayment(s, 'needs_attention')).toBe(true);
      expect(canMovePayment('needs_attention', s)).toBe(true);
    }
  });

  it('recognises stage names', () => {
    expect(isInvoiceStage('partially_paid')).toBe(true);
    expect(isInvoiceStage('pending')).toBe(false);
    expect(isPaymentStage('pending')).toBe(true);
    expect(isPaymentStage('viewed')).toBe(false);
  });
});

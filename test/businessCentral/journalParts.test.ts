import { postGroup, POST_PART } from '../../activities/journal';
import type { JournalPostRequest } from '../../activities/journalTypes';
import type { ActivityDeps } from '../../activities/deps';
import { ExternalServiceError } from '../../src/adapters/http/errors';
import { parseDecimal } from '../../src/domain/money';
import { generalDocumentNumber } from '../../src/adapters/businessCentral';
import type { BusinessCentralSandbox } from '../../src/sandbox/businessCentral';
import { clientFor, startSandbox } from './harness';

// The journal poster's group commit against the sandbox ERP: a large group is posted in parts, so an attempt cut short
// keeps what it posted and the next attempt carries on from there.
describe('group commit in parts', () => {
  let sandbox: BusinessCentralSandbox;
  let bc: ReturnType<typeof clientFor>;
  const settings = { payments: { generalJournalBatch: 'GENERAL' } } as ActivityDeps['settings'];

  beforeAll(async () => {
    sandbox = await startSandbox();
    bc = clientFor(sandbox);
  });
  afterAll(async () => {
    await sandbox.close();
  });

  it('an attempt cut short after the first part keeps that part posted; the next one posts the rest, each once', async () => {
    const n = POST_PART * 2 + 5;
    const invoices = sandbox.admin.postInvoices(
      Array.from({ length: n }, (_, i) => ({ customerNumber: 'C10000', lines: [{ description: 'Service', quantity: 1, unitPrice: `${10 + i}.00`, taxPercent: '0' }] })),
    );
    const requests: JournalPostRequest[] = invoices.map((inv, i) => ({
      externalDocumentNumber: `parts-${i}`,
      postingDate: new Date().toISOString().slice(0, 10),
      lines: [{ kind: 'applied', customerNumber: 'C10000', amountMinor: parseDecimal(inv.totalIncludingTax, 'USD'), currency: 'USD', invoiceNumber: inv.number, description: `payment ${i}` }],
    }));
    // The connection drops on the second post of the attempt.
    let posts = 0;
    const flaky = {
      ...bc,
      postJournal: async (id: string) => {
        if (++posts === 2) throw new ExternalServiceError('business-central', 'connection reset while posting', { retryable: true });
        return bc.postJournal(id);
      },
    };
    const postedExts = () => sandbox.admin.listLedgerEntries().filter((e) => e.documentType === 'Payment' && e.externalDocumentNumber.startsWith('parts-')).map((e) => e.externalDocumentNumber);

    await expect(postGroup({ bc: flaky, settings }, 'ARSYNC', requests)).rejects.toThrow('connection reset while posting');
    expect(postedExts().sort()).toEqual(requests.slice(0, POST_PART).map((r) => r.externalDocumentNumber).sort());

    const results = await postGroup({ bc: flaky, settings }, 'ARSYNC', requests);
    expect(results.map((r) => r.status)).toEqual([...Array(POST_PART).fill('already_posted'), ...Array(n - POST_PART).fill('posted')]);
    expect(postedExts().sort()).toEqual(requests.map((r) => r.externalDocumentNumber).sort());
    for (const inv of invoices) expect(sandbox.admin.getInvoice(inv.number).remaining).toMatch(/^0(\.0+)?$/);
    // Three parts, and one more post for the part the first attempt lost.
    expect(posts).toBe(4);
    const batch = (await bc.findJournalBatch('ARSYNC'))!;
    expect(await bc.findCustomerPaymentLines(batch.id)).toEqual([]);
  });

  it("reads the batch's lines with its lookup: a retry reuses the line the failed post left, with no read or write of its own", async () => {
    const [inv] = sandbox.admin.postInvoices([{ customerNumber: 'C10000', lines: [{ description: 'Service', quantity: 1, unitPrice: '42.00', taxPercent: '0' }] }]);
    const request: JournalPostRequest = {
      externalDocumentNumber: 'lookup-lines',
      postingDate: new Date().toISOString().slice(0, 10),
      lines: [{ kind: 'applied', customerNumber: 'C10000', amountMinor: parseDecimal(inv!.totalIncludingTax, 'USD'), currency: 'USD', invoiceNumber: inv!.number, description: 'payment' }],
    };
    const calls = { lookups: 0, reads: 0, creates: 0, posts: 0 };
    let failPost = true;
    const counting = {
      ...bc,
      findJournalBatchWithLines: (code: string) => (calls.lookups++, bc.findJournalBatchWithLines(code)),
      findCustomerPaymentLines: (id: string) => (calls.reads++, bc.findCustomerPaymentLines(id)),
      createCustomerPayment: (...args: Parameters<typeof bc.createCustomerPayment>) => (calls.creates++, bc.createCustomerPayment(...args)),
      postJournal: async (id: string) => {
        calls.posts++;
        if (failPost) throw new ExternalServiceError('business-central', 'gateway timeout', { retryable: true });
        return bc.postJournal(id);
      },
    };

    // First attempt: the lookup finds the batch empty, so the line is written; the create's answer says what the batch
    // holds (it went out once), so it is not read back.
    await expect(postGroup({ bc: counting, settings }, 'ARSYNC', [request])).rejects.toThrow('gateway timeout');
    expect(calls).toEqual({ lookups: 1, reads: 0, creates: 1, posts: 1 });

    // Second attempt: the lookup brings the line, which is what the request wants: straight to the post.
    failPost = false;
    const [result] = await postGroup({ bc: counting, settings }, 'ARSYNC', [request]);
    expect(result!.status).toBe('posted');
    expect(calls).toEqual({ lookups: 2, reads: 0, creates: 1, posts: 2 });
    expect(sandbox.admin.listLedgerEntries().filter((e) => e.externalDocumentNumber === 'lookup-lines' && e.documentType === 'Payment')).toHaveLength(1);
    expect(sandbox.admin.getInvoice(inv!.number).remaining).toMatch(/^0(\.0+)?$/);
    expect(await bc.findCustomerPaymentLines((await bc.findJournalBatch('ARSYNC'))!.id)).toEqual([]);
  });

  const paymentOf = (ext: string, unitPrice: string, fee = false): { request: JournalPostRequest; invoice: string } => {
    const [inv] = sandbox.admin.postInvoices([{ customerNumber: 'C10000', lines: [{ description: 'Service', quantity: 1, unitPrice, taxPercent: '0' }] }]);
    const total = parseDecimal(inv!.totalIncludingTax, 'USD');
    return {
      invoice: inv!.number,
      request: {
        externalDocumentNumber: ext,
        postingDate: new Date().toISOString().slice(0, 10),
        lines: [
          { kind: 'applied', customerNumber: 'C10000', amountMinor: total, currency: 'USD', invoiceNumber: inv!.number, description: 'payment' },
          ...(fee ? [{ kind: 'fee' as const, customerNumber: 'C10000', amountMinor: 130, currency: 'USD', account: '65100', description: 'card fee' }] : []),
        ],
      },
    };
  };
  const entriesOf = (ext: string) => sandbox.admin.listLedgerEntries().filter((e) => e.externalDocumentNumber === ext && e.documentType === 'Payment');
  const counted = (client: typeof bc) => {
    const calls = { receiptReads: 0, generalReads: 0 };
    return {
      calls,
      bc: {
        ...client,
        findCustomerPaymentLines: (id: string) => (calls.receiptReads++, client.findCustomerPaymentLines(id)),
        findJournalLines: (id: string) => (calls.generalReads++, client.findJournalLines(id)),
      },
    };
  };

  it('posts a receipt and its fee line with no read of either batch after writing, each once', async () => {
    const { request, invoice } = paymentOf('no-reread', '57.00', true);
    const { calls, bc: counting } = counted(bc);
    const [result] = await postGroup({ bc: counting, settings: { payments: { generalJournalBatch: 'REFUNDS' } } as ActivityDeps['settings'] }, 'ARSYNC', [request]);
    expect(result!.status).toBe('posted');
    expect(calls).toEqual({ receiptReads: 0, generalReads: 0 });
    expect(entriesOf('no-reread')).toHaveLength(1);
    expect(sandbox.admin.getInvoice(invoice).remaining).toMatch(/^0(\.0+)?$/);
    expect((await bc.findGeneralLedgerEntries(generalDocumentNumber('no-reread'))).filter((e) => e.accountNumber === '65100')).toHaveLength(1);
  });

  it('a create sent again (its first answer lost) is checked with a fresh read: the line it wrote twice is posted once', async () => {
    const { request, invoice } = paymentOf('sent-twice', '61.00');
    const { calls, bc: counting } = counted(bc);
    // The first send's answer is lost after Business Central wrote the line; the client sends it again.
    const twice = {
      ...counting,
      createCustomerPayment: async (...[id, line, opts]: Parameters<typeof bc.createCustomerPayment>) => {
        await bc.createCustomerPayment(id, line);
        opts?.onResend?.();
        return bc.createCustomerPayment(id, line, opts);
      },
    };
    const [result] = await postGroup({ bc: twice, settings }, 'ARSYNC', [request]);
    expect(result!.status).toBe('posted');
    expect(calls.receiptReads).toBeGreaterThanOrEqual(1);
    expect(entriesOf('sent-twice')).toHaveLength(1);
    expect(sandbox.admin.getInvoice(invoice).remaining).toMatch(/^0(\.0+)?$/);
    expect(await bc.findCustomerPaymentLines((await bc.findJournalBatch('ARSYNC'))!.id)).toEqual([]);
  });

  it("the client's own resend of a failed create tells the commit, which reads the batch before posting", async () => {
    const { request } = paymentOf('resent-500', '63.00');
    const { calls, bc: counting } = counted(bc);
    sandbox.faults.configure({ failNext: 1, failNextMethod: 'POST' });
    try {
      const [result] = await postGroup({ bc: counting, settings }, 'ARSYNC', [request]);
      expect(result!.status).toBe('posted');
    } finally {
      sandbox.faults.configure({ failNext: 0, failNextMethod: '' });
    }
    expect(calls.receiptReads).toBe(1);
    expect(entriesOf('resent-500')).toHaveLength(1);
  });
});

import { postGroup, POST_PART } from '../../activities/journal';
import type { JournalPostRequest } from '../../activities/journalTypes';
import type { ActivityDeps } from '../../activities/deps';
import { ExternalServiceError } from '../../src/adapters/http/errors';
import { parseDecimal } from '../../src/domain/money';
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

  /** Invoices posted in the ERP at these prices, and a request paying each in full (`<prefix>-<i>`). */
  const paidInFull = (prefix: string, prices: string[]) => {
    const invoices = sandbox.admin.postInvoices(prices.map((price) => ({ customerNumber: 'C10000', lines: [{ description: 'Service', quantity: 1, unitPrice: price, taxPercent: '0' }] })));
    const requests: JournalPostRequest[] = invoices.map((inv, i) => ({
      externalDocumentNumber: `${prefix}-${i}`,
      postingDate: new Date().toISOString().slice(0, 10),
      lines: [{ kind: 'applied', customerNumber: 'C10000', amountMinor: parseDecimal(inv.totalIncludingTax, 'USD'), currency: 'USD', invoiceNumber: inv.number, description: `payment ${i}` }],
    }));
    return { invoices, requests };
  };
  const paymentEntries = (ext: string) => sandbox.admin.listLedgerEntries().filter((e) => e.externalDocumentNumber === ext && e.documentType === 'Payment');

  it('an attempt cut short after the first part keeps that part posted; the next one posts the rest, each once', async () => {
    const n = POST_PART * 2 + 5;
    const { invoices, requests } = paidInFull('parts', Array.from({ length: n }, (_, i) => `${10 + i}.00`));
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

  it('an attempt that fails waits for its other writes first: none lands after it, and the next attempt posts each once', async () => {
    const { requests } = paidInFull('settle', ['31.00', '32.00']);
    // The first payment's line fails at once (the client gave up); the second's is slow and still on its way.
    let slowWritten = false;
    let failFirst = true;
    const flaky = {
      ...bc,
      createCustomerPayment: async (...args: Parameters<typeof bc.createCustomerPayment>) => {
        if (args[1].externalDocumentNumber === 'settle-0' && failFirst) throw new ExternalServiceError('business-central', 'service unavailable', { retryable: true });
        if (args[1].externalDocumentNumber === 'settle-1' && failFirst) {
          await new Promise((r) => setTimeout(r, 300));
          const line = await bc.createCustomerPayment(...args);
          slowWritten = true;
          return line;
        }
        return bc.createCustomerPayment(...args);
      },
    };
    await expect(postGroup({ bc: flaky, settings }, 'ARSYNC', requests)).rejects.toThrow('service unavailable');
    expect(slowWritten).toBe(true);

    failFirst = false;
    const results = await postGroup({ bc: flaky, settings }, 'ARSYNC', requests);
    expect(results.map((r) => r.status)).toEqual(['posted', 'posted']);
    for (const r of requests) expect(paymentEntries(r.externalDocumentNumber)).toHaveLength(1);
    expect(await bc.findCustomerPaymentLines((await bc.findJournalBatch('ARSYNC'))!.id)).toEqual([]);
  });

  it('an attempt that has ended stops at its next write: no line of it lands after that and nothing is posted', async () => {
    const {
      requests: [request],
    } = paidInFull('ended', ['33.00']);
    // Temporal gives up on the attempt while its receipt line is on the wire: the post that would follow is not made.
    let ended = false;
    const writes: string[] = [];
    const slow = {
      ...bc,
      createCustomerPayment: async (...args: Parameters<typeof bc.createCustomerPayment>) => {
        writes.push('receipt');
        const line = await bc.createCustomerPayment(...args);
        ended = true;
        return line;
      },
      postJournal: (id: string) => (writes.push('post'), bc.postJournal(id)),
    };
    const alive = () => {
      if (ended) throw new Error('attempt timed out');
    };
    await expect(postGroup({ bc: slow, settings }, 'ARSYNC', [request!], alive)).rejects.toThrow('attempt timed out');
    expect(writes).toEqual(['receipt']);
    expect(sandbox.admin.listLedgerEntries().filter((e) => e.externalDocumentNumber === 'ended-0')).toEqual([]);

    // The next attempt finds the line it left and posts the payment once.
    const [result] = await postGroup({ bc, settings }, 'ARSYNC', [request!]);
    expect(result!.status).toBe('posted');
    expect(paymentEntries('ended-0')).toHaveLength(1);
  });

  it('a receipt line deleted just before the post is not answered as posted: the next attempt writes and posts it once', async () => {
    const { invoices: invs, requests } = paidInFull('deleted', ['34.00', '35.00']);
    // Someone deletes the first payment's line after arsync's last read of the batch, before the post.
    let meddle = true;
    const meddled = {
      ...bc,
      postJournal: async (id: string) => {
        if (meddle) {
          meddle = false;
          for (const line of await bc.findCustomerPaymentLines(id)) if (line.externalDocumentNumber === 'deleted-0') await bc.deleteCustomerPayment(line.id);
        }
        return bc.postJournal(id);
      },
    };
    await expect(postGroup({ bc: meddled, settings }, 'ARSYNC', requests)).rejects.toThrow('the ledger has no entry for deleted-0');
    expect(paymentEntries('deleted-0')).toHaveLength(0);
    expect(paymentEntries('deleted-1')).toHaveLength(1);

    const results = await postGroup({ bc: meddled, settings }, 'ARSYNC', requests);
    expect(results.map((r) => r.status)).toEqual(['posted', 'already_posted']);
    expect(paymentEntries('deleted-0')).toHaveLength(1);
    expect(paymentEntries('deleted-1')).toHaveLength(1);
    for (const inv of invs) expect(sandbox.admin.getInvoice(inv.number).remaining).toMatch(/^0(\.0+)?$/);
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

    // First attempt: the lookup finds the batch empty, so the line is written and read back once to confirm it.
    await expect(postGroup({ bc: counting, settings }, 'ARSYNC', [request])).rejects.toThrow('gateway timeout');
    expect(calls).toEqual({ lookups: 1, reads: 1, creates: 1, posts: 1 });

    // Second attempt: the lookup brings the line, which is what the request wants: straight to the post.
    failPost = false;
    const [result] = await postGroup({ bc: counting, settings }, 'ARSYNC', [request]);
    expect(result!.status).toBe('posted');
    expect(calls).toEqual({ lookups: 2, reads: 1, creates: 1, posts: 2 });
    expect(sandbox.admin.listLedgerEntries().filter((e) => e.externalDocumentNumber === 'lookup-lines' && e.documentType === 'Payment')).toHaveLength(1);
    expect(sandbox.admin.getInvoice(inv!.number).remaining).toMatch(/^0(\.0+)?$/);
    expect(await bc.findCustomerPaymentLines((await bc.findJournalBatch('ARSYNC'))!.id)).toEqual([]);
  });
});

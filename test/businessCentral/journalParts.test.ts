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
});

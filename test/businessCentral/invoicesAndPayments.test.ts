import { ExternalServiceError } from '../../src/adapters/http/errors';
import type { BusinessCentralSandbox } from '../../src/sandbox/businessCentral';
import { createBusinessCentralSandbox } from '../../src/sandbox/businessCentral';
import { CREDENTIALS, clientFor, startSandbox, usd } from './harness';
import { creditChecks, creditedInErp } from '../../activities/erp';

describe('Business Central client against the sandbox: invoices and payments', () => {
  let sandbox: BusinessCentralSandbox;
  let bc: ReturnType<typeof clientFor>;

  beforeAll(async () => {
    sandbox = await startSandbox({ pageSize: 2 });
    bc = clientFor(sandbox);
  });
  afterAll(async () => {
    await sandbox.close();
  });

  const newInvoice = (customerNumber: string, unitPrice = '100.00', taxPercent = '10') =>
    sandbox.admin.postInvoice({ customerNumber, lines: [{ description: 'Service', quantity: 1, unitPrice, taxPercent }] });

  it('reads a customer created in the ERP, with posting group, attachments and attachment content', async () => {
    sandbox.admin.createCustomer({ number: 'C90000', displayName: 'Fabrikam Export', email: 'ap@fabrikam.example', postingGroup: 'EXPORT', paymentMethodCode: 'CARD' });
    sandbox.admin.addCustomerAttachment('C90000', { fileName: 'terms.pdf', content: Buffer.from('%PDF-1.4 terms') });

    const customer = await bc.getCustomerByNumber('C90000');
    expect(customer).toMatchObject({ number: 'C90000', displayName: 'Fabrikam Export', email: 'ap@fabrikam.example', postingGroup: 'EXPORT', currencyCode: 'USD' });
    expect(customer!.attachments).toHaveLength(1);
    expect(customer!.attachments![0]).toMatchObject({ fileName: 'terms.pdf', byteSize: 14 });
    const content = await bc.downloadAttachment(customer!.id, customer!.attachments![0].id);
    expect(content.toString()).toBe('%PDF-1.4 terms');

    const methods = await bc.listPaymentMethods();
    expect(methods.find((m) => m.id === customer!.paymentMethodId)?.code).toBe('CARD');
    expect(await bc.getCustomerByNumber('C30000')).toMatchObject({ email: '', postingGroup: 'DOMESTIC' });
    expect(await bc.getCustomerByNumber('NOPE')).toBeNull();
  });

  it('follows nextLink paging across every page', async () => {
    const customers = await bc.listCustomers();
    // seeded four + C90000 at a page size of 2: three pages
    expect(customers.map((c) => c.number).sort()).toEqual(['C10000', 'C20000', 'C30000', 'C40000', 'C90000']);
  });

  it('reads a posted invoice with lines and tax as Business Central computes it', async () => {
    // Three lines of 1.05 at 10 %: per line 0.105 each, but BC rounds the running total per rate: 0.11, 0.10, 0.11.
    const posted = sandbox.admin.postInvoice({
      customerNumber: 'C10000',
      externalDocumentNumber: 'PO-1',
      lines: [1, 2, 3].map((n) => ({ description: `Part ${n}`, quantity: 1, unitPrice: '1.05', taxPercent: '10' })),
    });
    const invoice = await bc.getSalesInvoiceByNumber(posted.number);
    expect(invoice).toMatchObject({
      id: posted.id,
      status: 'Open',
      customerNumber: 'C10000',
      externalDocumentNumber: 'PO-1',
      currencyCode: 'USD',
      totalExcludingTax: usd(315),
      totalTax: usd(32),
      totalIncludingTax: usd(347),
      remaining: usd(347),
    });
    // The document's tax distributed over the lines (they add up to the header), and each line's own rounded tax.
    expect(invoice!.lines!.map((l) => l.netTax.minor)).toEqual([11, 10, 11]);
    expect(invoice!.lines!.map((l) => l.tax.minor)).toEqual([11, 11, 11]);
    expect(invoice!.lines!.map((l) => l.netAmount.minor)).toEqual(invoice!.lines!.map((l) => l.amountExcludingTax.minor));
    expect(invoice!.lines![0]).toMatchObject({ description: 'Part 1', quantity: 1, unitPrice: { units: 105, scale: 2 }, taxPercent: 10, amountExcludingTax: usd(105), amountIncludingTax: usd(116) });
    const byId = await bc.getSalesInvoice(posted.id);
    expect(byId!.number).toBe(posted.number);
    expect(await bc.getSalesInvoice('00000000-0000-0000-0000-00000000abcd')).toBeNull();
  });

  it('reads an invoice with its sell-to customer expanded, as the customer card reads it', async () => {
    const posted = newInvoice('C20000', '12.00');
    const invoice = await bc.getSalesInvoiceByNumber(posted.number, { lines: true, customer: true });
    const card = await bc.getCustomerByNumber('C20000', { details: false });
    expect(invoice!.lines).toHaveLength(1);
    expect(invoice!.customer).toEqual(card);
    expect((await bc.getSalesInvoiceByNumber(posted.number, { lines: true }))!.customer).toBeUndefined();
  });

  it('posts a customer payment applied to the invoice: remaining 0, status Paid, and never twice', async () => {
    const posted = newInvoice('C20000', '200.00');
    const since = new Date(Date.now() - 1000).toISOString();
    const receipt = {
      journalCode: 'ARSYNC',
      externalDocumentNumber: 'pay_full_1',
      lines: [{ kind: 'applied' as const, customerNumber: 'C20000', amount: usd(22000), invoiceNumber: posted.number }],
    };
    const first = await bc.postCashReceipt(receipt);
    expect(first.status).toBe('posted');
    expect(first.entries).toHaveLength(1);
    expect(first.entries[0]).toMatchObject({ documentType: 'Payment', customerNumber: 'C20000', amount: usd(-22000), open: false, externalDocumentNumber: 'pay_full_1' });
    expect(first.invoiceRemaining[posted.number]).toEqual(usd(0));

    const invoice = await bc.getSalesInvoiceByNumber(posted.number);
    expect(invoice).toMatchObject({ status: 'Paid', remaining: usd(0) });
    expect(Date.parse(invoice!.lastModifiedDateTime)).toBeGreaterThan(Date.parse(since));
    expect((await bc.listSalesInvoices({ status: 'Paid' })).map((i) => i.number)).toContain(posted.number);

    const second = await bc.postCashReceipt(receipt);
    expect(second.status).toBe('already_posted');
    expect(second.entries.map((e) => e.entryNumber)).toEqual(first.entries.map((e) => e.entryNumber));
    expect(sandbox.admin.listLedgerEntries({ customerNumber: 'C20000' }).filter((e) => e.documentType === 'Payment')).toHaveLength(1);
    const batch = await bc.findJournalBatch('ARSYNC');
    expect(await bc.findCustomerPaymentLines(batch!.id)).toEqual([]);
  });

  it('completes an interrupted attempt: reuses its line, replaces a stale one, posts once', async () => {
    const posted = newInvoice('C10000', '50.00', '0');
    const batch = (await bc.findJournalBatch('ARSYNC'))!;
    // an earlier attempt created the right line and a wrong one, then died before posting
    await bc.createCustomerPayment(batch.id, { customerNumber: 'C10000', amount: usd(-2000), externalDocumentNumber: 'pay_resume', appliesToInvoiceNumber: posted.number });
    await bc.createCustomerPayment(batch.id, { customerNumber: 'C10000', amount: usd(-999), externalDocumentNumber: 'pay_resume', appliesToInvoiceNumber: posted.number });
    const result = await bc.postCashReceipt({
      journalCode: 'ARSYNC',
      externalDocumentNumber: 'pay_resume',
      lines: [{ kind: 'applied', customerNumber: 'C10000', amount: usd(2000), invoiceNumber: posted.number }],
    });
    expect(result.status).toBe('posted');
    expect(result.entries.map((e) => e.amount)).toEqual([usd(-2000)]);
    expect(result.invoiceRemaining[posted.number]).toEqual(usd(3000));
  });

  it('leaves a partly paid invoice Open with the rest remaining, and its ledger entry moves', async () => {
    const posted = newInvoice('C10000', '80.00', '0');
    const before = new Date().toISOString();
    const result = await bc.postCashReceipt({
      journalCode: 'ARSYNC',
      externalDocumentNumber: 'pay_partial_1',
      lines: [{ kind: 'applied', customerNumber: 'C10000', amount: usd(3000), invoiceNumber: posted.number }],
    });
    expect(result.invoiceRemaining[posted.number]).toEqual(usd(5000));
    const invoice = await bc.getSalesInvoiceByNumber(posted.number, { lines: false });
    expect(invoice).toMatchObject({ status: 'Open', remaining: usd(5000) });
    const changed = await bc.listCustomerLedgerEntriesSince(before, { documentType: 'Invoice' });
    expect(changed.find((e) => e.documentNumber === posted.number)).toMatchObject({ open: true, amount: usd(8000) });
  });

  it('rejects a positive payment amount at posting exactly as BC does, and posts nothing', async () => {
    const posted = newInvoice('C10000', '10.00', '0');
    const batch = (await bc.findJournalBatch('ARSYNC'))!;
    const line = await bc.createCustomerPayment(batch.id, { customerNumber: 'C10000', amount: usd(1000), externalDocumentNumber: 'wrong_sign', appliesToInvoiceNumber: posted.number });
    expect(line.amount).toEqual(usd(1000));
    const err = await bc.postJournal(batch.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExternalServiceError);
    expect(err).toMatchObject({ status: 400, code: 'Application_FieldValidationException', retryable: false });
    expect((err as Error).message).toMatch(/Amount must be negative in Gen\. Journal Line Journal Template Name='CASHRCPT',Journal Batch Name='ARSYNC'/);
    expect(await bc.findPostedEntries('wrong_sign')).toEqual([]);
    expect((await bc.getSalesInvoiceByNumber(posted.number, { lines: false }))!.remaining).toEqual(usd(1000));
    await bc.deleteCustomerPayment(line.id);
    expect(await bc.findCustomerPaymentLines(batch.id, 'wrong_sign')).toEqual([]);
  });

  it('posts a batch atomically: one bad line (a foreign invoice) and nothing is posted', async () => {
    const mine = newInvoice('C10000', '40.00', '0');
    const foreign = newInvoice('C20000', '40.00', '0');
    const batch = (await bc.findJournalBatch('ARSYNC'))!;
    await bc.createCustomerPayment(batch.id, { customerNumber: 'C10000', amount: usd(-4000), externalDocumentNumber: 'atomic_ok', appliesToInvoiceNumber: mine.number });
    await bc.createCustomerPayment(batch.id, { customerNumber: 'C10000', amount: usd(-4000), externalDocumentNumber: 'atomic_bad', appliesToInvoiceNumber: foreign.number });
    const err = await bc.postJournal(batch.id).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, code: 'Application_DialogException', retryable: false });
    expect((err as Error).message).toContain(`Document No. ${foreign.number} for Customer C10000`);
    expect(await bc.findPostedEntries('atomic_ok')).toEqual([]);
    expect(await bc.getSalesInvoiceByNumber(mine.number, { lines: false })).toMatchObject({ status: 'Open', remaining: usd(4000) });
    expect(await bc.findCustomerPaymentLines(batch.id)).toHaveLength(2);
    for (const l of await bc.findCustomerPaymentLines(batch.id)) await bc.deleteCustomerPayment(l.id);

    // the same failure through postCashReceipt cleans up its own lines so the batch is not blocked
    const failed = await bc
      .postCashReceipt({ journalCode: 'ARSYNC', externalDocumentNumber: 'atomic_helper', lines: [{ kind: 'applied', customerNumber: 'C10000', amount: usd(100), invoiceNumber: foreign.number }] })
      .catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'Application_DialogException', retryable: false });
    expect(await bc.findCustomerPaymentLines(batch.id)).toEqual([]);
  });

  it('reports "nothing to post" as a permanent BC error', async () => {
    const batch = (await bc.findJournalBatch('ARSYNC'))!;
    await expect(bc.postJournal(batch.id)).rejects.toMatchObject({ code: 'Application_DialogException', retryable: false, message: expect.stringContaining('There is nothing to post.') });
  });

  it('posts unapplied receipts, refunds to the customer and fees to G/L idempotently', async () => {
    const receipt = {
      journalCode: 'ARSYNC',
      generalJournalCode: 'REFUNDS',
      externalDocumentNumber: 'pay_mixed_1',
      lines: [
        { kind: 'unapplied' as const, customerNumber: 'C40000', amount: usd(1500) },
        { kind: 'fee' as const, account: '65100', amount: usd(120) },
      ],
    };
    const first = await bc.postCashReceipt(receipt);
    expect(first.status).toBe('posted');
    expect(first.entries).toEqual([expect.objectContaining({ documentType: 'Payment', amount: usd(-1500), open: true })]);
    expect(first.glEntries.find((g) => g.accountNumber === '65100')).toMatchObject({ credit: usd(120), documentNumber: 'pay_mixed_1' });
    expect((await bc.postCashReceipt(receipt)).status).toBe('already_posted');

    const refund = await bc.postCashReceipt({
      journalCode: 'ARSYNC',
      generalJournalCode: 'REFUNDS',
      externalDocumentNumber: 'refund_1',
      lines: [{ kind: 'refund', customerNumber: 'C40000', amount: usd(500) }],
    });
    expect(refund.entries).toEqual([expect.objectContaining({ documentType: '', amount: usd(500), customerNumber: 'C40000' })]);
    expect((await bc.getCustomerByNumber('C40000', { details: false }))!.balanceDue).toEqual(usd(-1000));
  });

  it('reads many keys by OR-filter queries of twenty: ledger entries, G/L entries and invoices, across pages and chunks', async () => {
    // Posted in one sandbox transaction (the bulk set-up the benchmarks use).
    const invoices = sandbox.admin.postInvoices(Array.from({ length: 23 }, () => ({ customerNumber: 'C20000', lines: [{ description: 'Service', quantity: 1, unitPrice: '10.00', taxPercent: '0' }] })));
    expect(new Set(invoices.map((i) => i.number)).size).toBe(23);
    const keys = invoices.map((inv, i) => `batch_${i}`);
    invoices.forEach((inv, i) => sandbox.admin.recordPayment({ invoiceNumber: inv.number, amount: '1.00', externalDocumentNumber: keys[i] }));
    const wanted = [...keys, 'batch_missing'];

    const entries = await bc.findEntriesByExternalDocumentNumbers(wanted);
    expect(entries.map((e) => e.externalDocumentNumber).sort()).toEqual([...keys].sort());
    expect(entries.every((e) => e.amount.minor === -100)).toBe(true);

    const found = await bc.findSalesInvoicesByNumbers([...invoices.map((i) => i.number), 'NO-SUCH']);
    expect(found.map((i) => i.number).sort()).toEqual(invoices.map((i) => i.number).sort());
    expect(found.every((i) => i.remaining.minor === 900)).toBe(true);

    // By id, as a notification names them (upper case too); an unknown id is simply not found.
    const ids = [...invoices.map((i, n) => (n % 2 ? i.id.toUpperCase() : i.id)), '00000000-0000-0000-0000-00000000abcd'];
    const byId = await bc.getSalesInvoicesByIds(ids);
    expect(byId.map((i) => i.number).sort()).toEqual(invoices.map((i) => i.number).sort());

    const gl = await bc.findGeneralLedgerEntriesOf(['pay_mixed_1', 'refund_1', 'nothing_here']);
    expect(new Set(gl.map((e) => e.documentNumber))).toEqual(new Set(['pay_mixed_1', 'refund_1']));
  });

  it('reads invoices with lines and customer asked for together in shared queries, each caller getting its own', async () => {
    // A sandbox of its own, its requests counted at the door (a hook goes on before it listens).
    const own = await createBusinessCentralSandbox({ ...CREDENTIALS, notificationDelayMs: 0 });
    let reads = 0;
    own.app.addHook('onRequest', async (req) => {
      if (req.url.includes('/salesInvoices?')) reads++;
    });
    await own.listen(0);
    try {
      const invoices = own.admin.postInvoices(
        Array.from({ length: 25 }, (_, i) => ({ customerNumber: i % 2 ? 'C20000' : 'C10000', lines: [{ description: `Line ${i}`, quantity: 1, unitPrice: `${10 + i}.00`, taxPercent: '0' }] })),
      );
      // Nothing queues (32 in flight allowed): the reads asked within the first one's 50 ms gather share its query.
      const gathering = clientFor(own, { maxConcurrent: 32 });
      const got = await Promise.all(
        invoices.map((inv, i) => new Promise<void>((r) => setTimeout(r, i)).then(() => gathering.getSalesInvoiceByNumber(inv.number, { lines: true, customer: true }))),
      );
      got.forEach((inv, i) => {
        expect(inv!.number).toBe(invoices[i].number);
        expect(inv!.lines!.map((l) => l.description)).toEqual([`Line ${i}`]);
        expect(inv!.customer!.number).toBe(i % 2 ? 'C20000' : 'C10000');
      });
      // 25 asked within 25 ms: two queries of at most twenty keys.
      expect(reads).toBe(2);
      // Lines only is another query (another expansion); an unknown number is not found.
      expect((await gathering.getSalesInvoiceByNumber(invoices[0].number, { lines: true }))!.customer).toBeUndefined();
      expect(await gathering.getSalesInvoiceByNumber('NO-SUCH', { lines: true, customer: true })).toBeNull();
      expect(reads).toBe(4);
    } finally {
      await own.close();
    }
  });

  it('posts several invoices in one transaction: all of them, or none when one cannot be posted', async () => {
    const before = sandbox.admin.listInvoices().length;
    const line = { description: 'Service', quantity: 1, unitPrice: '5.00', taxPercent: '0' };
    expect(() => sandbox.admin.postInvoices([{ customerNumber: 'C20000', lines: [line] }, { customerNumber: 'NO-SUCH', lines: [line] }])).toThrow(/does not exist/);
    expect(sandbox.admin.listInvoices()).toHaveLength(before);
    const posted = sandbox.admin.postInvoices([{ customerNumber: 'C20000', lines: [line] }, { customerNumber: 'C10000', lines: [line] }]);
    expect(posted.map((i) => i.status)).toEqual(['Open', 'Open']);
    expect((await bc.findSalesInvoicesByNumbers(posted.map((i) => i.number))).map((i) => i.customerNumber).sort()).toEqual(['C10000', 'C20000']);
  });

  it('sees payments made inside the ERP and their unapplication through the ledger watermark', async () => {
    const posted = newInvoice('C20000', '60.00', '0');
    const watermark = new Date().toISOString();
    const payment = sandbox.admin.recordPayment({ invoiceNumber: posted.number, amount: '60.00' });
    let changed = await bc.listCustomerLedgerEntriesSince(watermark);
    expect(changed.map((e) => e.documentNumber)).toEqual(expect.arrayContaining([posted.number, payment.documentNumber]));
    expect((await bc.getSalesInvoiceByNumber(posted.number, { lines: false }))!.status).toBe('Paid');

    const afterPayment = changed.reduce((max, e) => (e.lastModifiedDateTime > max ? e.lastModifiedDateTime : max), watermark);
    sandbox.admin.unapplyPayment({ entryNumber: payment.entryNumber });
    changed = await bc.listCustomerLedgerEntriesSince(afterPayment);
    expect(changed.find((e) => e.documentNumber === posted.number)).toMatchObject({ open: true });
    expect(await bc.getSalesInvoiceByNumber(posted.number, { lines: false })).toMatchObject({ status: 'Open', remaining: usd(6000) });
  });

  it('shows cancelled and credited invoices', async () => {
    const cancelled = newInvoice('C10000', '30.00', '0');
    sandbox.admin.cancelInvoice(cancelled.number);
    expect(await bc.getSalesInvoiceByNumber(cancelled.number, { lines: false })).toMatchObject({ status: 'Canceled', remaining: usd(0) });
    const credited = newInvoice('C10000', '30.00', '0');
    sandbox.admin.creditInvoice(credited.number);
    expect(await bc.getSalesInvoiceByNumber(credited.number, { lines: false })).toMatchObject({ status: 'Paid', remaining: usd(0) });
    const memo = (await bc.findPostedEntries(credited.number)).find((e) => e.documentType === 'Invoice');
    expect(memo).toMatchObject({ open: false });
  });

  it('tells credited invoices from paid ones, several at once with one read of the credit memos', async () => {
    const credited = newInvoice('C10000', '30.00', '0');
    const paid = newInvoice('C10000', '40.00', '0');
    const open = newInvoice('C10000', '50.00', '0');
    // A price correction for part of it, then the rest paid: paid, not credited.
    const corrected = newInvoice('C10000', '250.00', '0');
    // Credited in two memos that together cover it: credited.
    const twice = newInvoice('C10000', '60.00', '0');
    sandbox.admin.creditInvoice(credited.number);
    sandbox.admin.recordPayment({ invoiceNumber: paid.number, amount: '40.00' });
    sandbox.admin.creditInvoice(corrected.number, '50.00');
    sandbox.admin.recordPayment({ invoiceNumber: corrected.number, amount: '200.00' });
    sandbox.admin.creditInvoice(twice.number, '20.00');
    sandbox.admin.creditInvoice(twice.number, '40.00');
    const all = [credited, paid, open, corrected, twice];
    const invoices = await Promise.all(all.map(async (i) => (await bc.getSalesInvoiceByNumber(i.number, { lines: false }))!));
    expect(invoices.map((i) => i.status)).toEqual(['Paid', 'Paid', 'Open', 'Paid', 'Paid']);
    let reads = 0;
    const counting = { bc: { ...bc, listCustomerLedgerEntriesSince: (...args: Parameters<typeof bc.listCustomerLedgerEntriesSince>) => (reads++, bc.listCustomerLedgerEntriesSince(...args)) } };
    const check = await creditChecks(counting, invoices);
    expect(invoices.map(check)).toEqual([true, false, false, false, true]);
    expect(reads).toBe(1);
    // One invoice alone asks the same question the same way.
    expect(await Promise.all(invoices.map((i) => creditedInErp(counting, i)))).toEqual([true, false, false, false, true]);
    expect(reads).toBe(1 + 4);
  });
});

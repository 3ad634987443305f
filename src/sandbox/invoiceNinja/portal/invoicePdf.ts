import { formatDecimal } from '../../../domain/money';
import { dec, display, toText } from '../decimal';
import type { InvoiceRow } from '../model';
import type { SandboxStore } from '../store';
import { type PdfPage, type PdfText, renderPdf } from './pdf';

// The invoice as a one-or-more page PDF: header, bill-to, line table (paged), totals.

const LINES_PER_PAGE = 30;

export const STATUS_LABEL: Record<number, string> = { 1: 'Draft', 2: 'Sent', 3: 'Partial', 4: 'Paid', 5: 'Cancelled', 6: 'Reversed' };

export function invoicePdf(store: SandboxStore, inv: InvoiceRow): Buffer {
  const client = store.client(inv.client_id)!;
  const currency = store.currencyOf(client);
  const m = (minor: number) => `${formatDecimal(minor, currency)} ${currency}`;

  const pages: PdfPage[] = [];
  const chunks: InvoiceRow['line_items'][] = [];
  for (let i = 0; i < Math.max(1, inv.line_items.length); i += LINES_PER_PAGE) chunks.push(inv.line_items.slice(i, i + LINES_PER_PAGE));

  chunks.forEach((lines, pageIndex) => {
    const texts: PdfText[] = [];
    let y = 740;
    if (pageIndex === 0) {
      texts.push({ x: 50, y, text: 'Sandbox Company', size: 16, bold: true });
      texts.push({ x: 562, y, text: `INVOICE ${inv.number}`, size: 16, bold: true, right: true });
      y -= 24;
      texts.push({ x: 562, y, text: `Date: ${inv.date}`, right: true });
      texts.push({ x: 50, y, text: 'Bill to:', bold: true });
      y -= 14;
      texts.push({ x: 562, y, text: `Due: ${inv.due_date || 'on receipt'}`, right: true });
      texts.push({ x: 50, y, text: client.text.name || client.number });
      y -= 14;
      texts.push({ x: 562, y, text: `Status: ${STATUS_LABEL[inv.status_id]}`, right: true });
      if (client.text.address1) texts.push({ x: 50, y, text: client.text.address1 });
      y -= 14;
      if (client.text.city) texts.push({ x: 50, y, text: `${client.text.city} ${client.text.postal_code}`.trim() });
      y -= 30;
    } else {
      texts.push({ x: 50, y, text: `Invoice ${inv.number} (continued)`, bold: true });
      y -= 30;
    }
    texts.push({ x: 50, y, text: 'Item', bold: true }, { x: 330, y, text: 'Qty', bold: true, right: true });
    texts.push({ x: 420, y, text: 'Unit price', bold: true, right: true }, { x: 562, y, text: 'Line total', bold: true, right: true });
    const rules = [{ x1: 50, y1: y - 5, x2: 562, y2: y - 5 }];
    y -= 20;
    for (const l of lines) {
      const label = [l.text.product_key, l.text.notes].filter(Boolean).join(' - ').slice(0, 48);
      texts.push({ x: 50, y, text: label });
      texts.push({ x: 330, y, text: toText(dec(l.num.quantity)), right: true });
      texts.push({ x: 420, y, text: display(l.num.cost), right: true });
      texts.push({ x: 562, y, text: display(l.line_total), right: true });
      y -= 16;
    }
    if (pageIndex === chunks.length - 1) {
      rules.push({ x1: 330, y1: y + 6, x2: 562, y2: y + 6 });
      y -= 10;
      const totals: Array<[string, string, boolean]> = [
        ['Taxes', `${display(inv.total_taxes)} ${currency}`, false],
        ['Total', m(inv.amount), true],
        ['Paid to date', m(inv.paid_to_date), false],
        ['Balance due', m(inv.balance), true],
      ];
      for (const [label, value, bold] of totals) {
        texts.push({ x: 420, y, text: label, bold, right: true }, { x: 562, y, text: value, bold, right: true });
        y -= 16;
      }
    }
    texts.push({ x: 306, y: 30, text: `Page ${pageIndex + 1} of ${chunks.length}`, size: 8 });
    pages.push({ texts, rules });
  });
  return renderPdf(pages, `Invoice ${inv.number}`);
}

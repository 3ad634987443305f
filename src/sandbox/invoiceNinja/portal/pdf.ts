// A small, valid PDF 1.4 writer for the invoice download: text only, the standard Helvetica fonts (no embedding),
// US Letter pages, and a correct cross-reference table so every reader opens it.

export interface PdfText {
  x: number;
  y: number;
  text: string;
  size?: number;
  bold?: boolean;
  /** Right-align at x. */
  right?: boolean;
}

export interface PdfRule {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface PdfPage {
  texts: PdfText[];
  rules?: PdfRule[];
}

const PAGE_W = 612;
const PAGE_H = 792;

/** Printable ASCII only, PDF string escapes applied. */
function pdfString(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[^\x20-\x7e]/g, '')
    .replace(/\\/g, '\\\\')
    .replace(/\(/g, '\\(')
    .replace(/\)/g, '\\)');
}

/** Helvetica advance widths would be exact; an average is enough to right-align figures. */
function approxWidth(text: string, size: number, bold: boolean): number {
  return text.length * size * (bold ? 0.58 : 0.54);
}

function contentStream(page: PdfPage): string {
  const ops: string[] = [];
  for (const r of page.rules ?? []) ops.push(`0.7 G 0.5 w ${r.x1} ${r.y1} m ${r.x2} ${r.y2} l S`);
  for (const t of page.texts) {
    const size = t.size ?? 10;
    const text = pdfString(t.text);
    const x = t.right ? t.x - approxWidth(text, size, !!t.bold) : t.x;
    ops.push(`BT /${t.bold ? 'F2' : 'F1'} ${size} Tf ${x.toFixed(1)} ${t.y.toFixed(1)} Td (${text}) Tj ET`);
  }
  return ops.join('\n');
}

export function renderPdf(pages: PdfPage[], title: string): Buffer {
  const objects: string[] = [];
  const add = (body: string) => {
    objects.push(body);
    return objects.length;
  };
  const catalog = add('');
  const pagesObj = add('');
  const fontRegular = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  const fontBold = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>');
  const info = add(`<< /Title (${pdfString(title)}) /Producer (Invoice Ninja sandbox) >>`);
  const kids: number[] = [];
  for (const page of pages) {
    const stream = contentStream(page);
    const contents = add(`<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}\nendstream`);
    kids.push(
      add(
        `<< /Type /Page /Parent ${pagesObj} 0 R /MediaBox [0 0 ${PAGE_W} ${PAGE_H}] /Contents ${contents} 0 R ` +
          `/Resources << /Font << /F1 ${fontRegular} 0 R /F2 ${fontBold} 0 R >> >> >>`,
      ),
    );
  }
  objects[catalog - 1] = `<< /Type /Catalog /Pages ${pagesObj} 0 R >>`;
  objects[pagesObj - 1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`;

  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R /Info ${info} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

export const PDF_PAGE = { width: PAGE_W, height: PAGE_H };

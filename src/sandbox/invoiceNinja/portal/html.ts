import { formatDecimal } from '../../../domain/money';

// Shared markup for the client portal pages: one self-contained stylesheet (no external assets), escaping, money.

export function esc(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const SYMBOLS: Record<string, string> = { USD: '$', CAD: '$', AUD: '$', NZD: '$', EUR: '€', GBP: '£', JPY: '¥' };

export function currencySymbol(currency: string): string | undefined {
  return SYMBOLS[currency];
}

export function money(minor: number, currency: string): string {
  const symbol = SYMBOLS[currency];
  const [int, frac] = formatDecimal(Math.abs(minor), currency).split('.');
  const text = int.replace(/\B(?=(\d{3})+$)/g, ',') + (frac === undefined ? '' : `.${frac}`);
  const sign = minor < 0 ? '-' : '';
  return symbol ? `${sign}${symbol}${text}` : `${sign}${text} ${currency}`;
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2933;background:#f4f6f8}
header{background:#1f3a5f;color:#fff;padding:14px 24px;display:flex;justify-content:space-between;align-items:center}
header strong{font-size:18px}
header span{opacity:.8;font-size:13px}
main{max-width:920px;margin:24px auto;padding:0 16px}
.card{background:#fff;border:1px solid #dde3ea;border-radius:10px;padding:22px 24px;margin-bottom:18px;box-shadow:0 1px 2px rgba(0,0,0,.04)}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:0 0 12px}
.muted{color:#637083;font-size:13px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin-top:14px}
.stat{background:#f7f9fb;border:1px solid #e6ebf0;border-radius:8px;padding:10px 12px}
.stat b{display:block;font-size:18px}
table{width:100%;border-collapse:collapse;margin-top:8px}
th,td{text-align:left;padding:9px 8px;border-bottom:1px solid #edf0f3;vertical-align:top}
th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#637083}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tfoot td{font-weight:600;border-bottom:none}
.actions{display:flex;gap:10px;flex-wrap:wrap;margin-top:16px}
.btn{display:inline-block;border:1px solid #1f3a5f;background:#fff;color:#1f3a5f;border-radius:7px;padding:9px 16px;font:inherit;font-weight:600;text-decoration:none;cursor:pointer}
.btn.primary{background:#1f7a4d;border-color:#1f7a4d;color:#fff}
.btn:disabled{opacity:.5;cursor:not-allowed}
.badge{display:inline-block;border-radius:999px;padding:2px 10px;font-size:12px;font-weight:600;background:#e6ebf0;color:#334155;vertical-align:middle}
.badge.paid{background:#d9f2e4;color:#1f7a4d}.badge.partial{background:#fff1d6;color:#8a5a00}.badge.sent{background:#e0ecff;color:#1f4fa0}
.badge.cancelled,.badge.failed{background:#fde2e1;color:#a12c2c}.badge.pending{background:#fff1d6;color:#8a5a00}.badge.completed{background:#d9f2e4;color:#1f7a4d}
input[type=text],input[type=number]{font:inherit;padding:7px 9px;border:1px solid #c7d0da;border-radius:6px;width:100%}
input.amount{max-width:140px;text-align:right}
label{display:block;margin:10px 0 4px;font-weight:600;font-size:13px}
.method{display:flex;gap:12px;flex-wrap:wrap}
.method label{font-weight:400;font-size:15px;border:1px solid #c7d0da;border-radius:8px;padding:10px 14px;margin:0;cursor:pointer}
.row{display:grid;grid-template-columns:2fr 1fr 1fr;gap:12px}
.error{background:#fde2e1;border:1px solid #f5b5b3;color:#8a1f1f;border-radius:8px;padding:10px 14px;margin-bottom:14px}
.success{background:#d9f2e4;border:1px solid #a8dcc0;color:#14532d;border-radius:8px;padding:10px 14px;margin-bottom:14px}
.summary td{border:none;padding:4px 8px}
.check{display:flex;gap:8px;align-items:flex-start;font-weight:400;font-size:14px}
@media print{header,.actions,.noprint{display:none}body{background:#fff}.card{border:none;box-shadow:none}}
`;

export function page(title: string, body: string, script = ''): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body><header><strong>Sandbox Company</strong><span>Client portal</span></header>
<main>${body}</main>${script ? `<script>${script}</script>` : ''}</body></html>`;
}

export function statusBadge(label: string): string {
  return `<span class="badge ${esc(label.toLowerCase())}">${esc(label)}</span>`;
}

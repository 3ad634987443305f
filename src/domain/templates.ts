/**
 * Tiny, safe templates for the pay-link email and SMS: `{{customerName}}`, `{{invoiceNumber}}`, `{{amountDue}}`,
 * `{{dueDate}}`, `{{payLink}}`, `{{companyName}}` (spaces inside the braces allowed). No expressions, no loops, no
 * re-expansion of values.
 *
 * Templates are compiled when configuration is loaded: an unknown placeholder, an empty one or an unclosed `{{` is an error
 * listing every problem, so a typo fails at start-up, not in a customer's inbox. The HTML variant escapes every value
 * (the template itself is trusted configuration); the pay link must be an http(s) URL in both variants.
 */

import { Money, formatMoney } from './money';

export const TEMPLATE_FIELDS = ['customerName', 'invoiceNumber', 'amountDue', 'dueDate', 'payLink', 'companyName'] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];

export interface TemplateValues {
  customerName: string;
  invoiceNumber: string;
  amountDue: Money;
  /** YYYY-MM-DD, or null when the invoice has none (renders empty). */
  dueDate: string | null;
  payLink: string;
  companyName: string;
}

export type TemplatePart = { text: string } | { field: TemplateField };

/** A parsed template; plain data, so it can travel in workflow payloads. */
export interface CompiledTemplate {
  parts: TemplatePart[];
}

export class TemplateError extends Error {
  constructor(
    message: string,
    readonly problems: string[],
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** Every problem in a template (empty when it is valid). */
export function templateProblems(source: string): string[] {
  return parse(source).problems;
}

export function compileTemplate(source: string, name = 'template'): CompiledTemplate {
  const { parts, problems } = parse(source);
  if (problems.length) throw new TemplateError(`${name}: ${problems.join('; ')}`, problems);
  return { parts };
}

export function renderTemplate(
  template: CompiledTemplate | string,
  values: TemplateValues,
  variant: 'text' | 'html' = 'text',
): string {
  const compiled = typeof template === 'string' ? compileTemplate(template) : template;
  if (!/^https?:\/\/[^\s]+$/i.test(values.payLink)) {
    throw new TemplateError(`pay link must be an http(s) URL, got "${values.payLink}"`, ['payLink']);
  }
  const escape = variant === 'html' ? escapeHtml : (s: string) => s;
  return compiled.parts.map((p) => ('text' in p ? p.text : escape(fieldText(p.field, values)))).join('');
}

function fieldText(field: TemplateField, v: TemplateValues): string {
  switch (field) {
    case 'amountDue':
      return formatMoney(v.amountDue);
    case 'dueDate':
      return v.dueDate ?? '';
    default:
      return v[field];
  }
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function parse(source: string): { parts: TemplatePart[]; problems: string[] } {
  const parts: TemplatePart[] = [];
  const unknown: string[] = [];
  const problems: string[] = [];
  let i = 0;
  while (i < source.length) {
    const open = source.indexOf('{{', i);
    if (open < 0) {
      parts.push({ text: source.slice(i) });
      break;
    }
    if (open > i) parts.push({ text: source.slice(i, open) });
    const close = source.indexOf('}}', open + 2);
    if (close < 0) {
      problems.push(`unclosed placeholder at position ${open}`);
      break;
    }
    const name = source.slice(open + 2, close).trim();
    if (!name) problems.push(`empty placeholder at position ${open}`);
    else if ((TEMPLATE_FIELDS as readonly string[]).includes(name)) parts.push({ field: name as TemplateField });
    else if (!unknown.includes(name)) unknown.push(name);
    i = close + 2;
  }
  if (unknown.length) {
    problems.unshift(`unknown placeholder(s): ${unknown.join(', ')} (known: ${TEMPLATE_FIELDS.join(', ')})`);
  }
  return { parts, problems };
}

import {
  TemplateError,
  TemplateValues,
  compileTemplate,
  escapeHtml,
  renderTemplate,
  templateProblems,
} from '../../src/domain/templates';
import { money } from '../../src/domain/money';

const values: TemplateValues = {
  customerName: 'Adatum Corporation',
  invoiceNumber: 'PSI-103001',
  amountDue: money(432300, 'USD'),
  dueDate: '2024-05-10',
  payLink: 'https://portal.example.com/client/pay/abc123?x=1&y=2',
  companyName: 'CRONUS USA, Inc.',
};

describe('renderTemplate', () => {
  it('fills every placeholder in plain text', () => {
    const t = 'Dear {{customerName}}, invoice {{ invoiceNumber }} for {{amountDue}} is due {{dueDate}}. Pay: {{payLink}} - {{companyName}}';
    expect(renderTemplate(t, values)).toBe(
      'Dear Adatum Corporation, invoice PSI-103001 for 4323.00 USD is due 2024-05-10. Pay: https://portal.example.com/client/pay/abc123?x=1&y=2 - CRONUS USA, Inc.',
    );
  });

  it('formats amounts in the currency precision', () => {
    expect(renderTemplate('{{amountDue}}', { ...values, amountDue: money(2621, 'JPY') })).toBe('2621 JPY');
    expect(renderTemplate('{{amountDue}}', { ...values, amountDue: money(1381, 'BHD') })).toBe('1.381 BHD');
  });

  it('renders a missing due date as empty', () => {
    expect(renderTemplate('[{{dueDate}}]', { ...values, dueDate: null })).toBe('[]');
  });

  it('escapes values in the HTML variant, not the trusted template', () => {
    const html = renderTemplate(
      '<p>Hello {{customerName}}</p><a href="{{payLink}}">Pay</a>',
      { ...values, customerName: '<script>alert("x")</script> & Sons' },
      'html',
    );
    expect(html).toBe(
      '<p>Hello &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Sons</p><a href="https://portal.example.com/client/pay/abc123?x=1&amp;y=2">Pay</a>',
    );
  });

  it('never re-expands placeholders found inside values', () => {
    expect(renderTemplate('{{customerName}}', { ...values, customerName: '{{payLink}}' })).toBe('{{payLink}}');
  });

  it('refuses a pay link that is not an http(s) URL', () => {
    expect(() => renderTemplate('{{payLink}}', { ...values, payLink: 'javascript:alert(1)' }, 'html')).toThrow(TemplateError);
  });

  it('renders a compiled template the same way as its source, and leaves text without placeholders alone', () => {
    const src = 'Invoice {{invoiceNumber}} } { }} {';
    expect(renderTemplate(compileTemplate(src), values)).toBe(renderTemplate(src, values));
    expect(renderTemplate(src, values)).toBe('Invoice PSI-103001 } { }} {');
    expect(renderTemplate('', values)).toBe('');
  });

  it('produces plain data that survives JSON', () => {
    const compiled = compileTemplate('Hi {{customerName}}');
    expect(JSON.parse(JSON.stringify(compiled))).toEqual(compiled);
  });
});

describe('template validation', () => {
  it('lists every unknown placeholder once', () => {
    const src = 'Hi {{customer_name}}, {{invoiceNumber}} {{total}} {{total}}';
    expect(templateProblems(src)).toEqual([
      'unknown placeholder(s): customer_name, total (known: customerName, invoiceNumber, amountDue, dueDate, payLink, companyName)',
    ]);
    try {
      compileTemplate(src, 'linkEmail.subject');
      throw new Error('expected a TemplateError');
    } catch (e) {
      expect(e).toBeInstanceOf(TemplateError);
      expect((e as TemplateError).message).toMatch(/^linkEmail\.subject: unknown placeholder\(s\): customer_name, total/);
    }
  });

  it('reports unclosed and empty placeholders', () => {
    expect(templateProblems('Pay {{payLink')).toEqual(['unclosed placeholder at position 4']);
    expect(templateProblems('{{ }}')).toEqual(['empty placeholder at position 0']);
  });

  it('accepts valid templates', () => {
    expect(templateProblems('{{customerName}}{{invoiceNumber}}{{amountDue}}{{dueDate}}{{payLink}}{{companyName}}')).toEqual([]);
  });

  it('escapes all five HTML-significant characters', () => {
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });
});

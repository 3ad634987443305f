import type { FastifyInstance, FastifyReply } from 'fastify';
import { parseDecimal, formatDecimal } from '../../../domain/money';
import type { FeeRule, SandboxContext } from '../context';
import { dec } from '../decimal';
import { feeFor, PaymentDeclined, type PayMethod, payInPortal, resolveAllocations } from '../gateway';
import { payableInvoices } from '../invoices';
import { PAYMENT_STATUS, type ClientRow, type InvoiceRow } from '../model';
import { currencySymbol, esc, money, page, statusBadge } from './html';
import { notFoundPage } from './invoicePage';

// The customer pay flow, usable with plain form posts (no JavaScript needed; the script only previews the fee):
//   GET  /client/pay/{key}                      choose invoices (checkboxes), amounts (full or partial), method
//   POST /client/pay/{key}/review               the fee for that method is shown before anything is charged
//   POST /client/pay/{key}/confirm              card or bank details + "I agree to the fee" → payment
//   GET  /client/pay/{key}/receipt/{paymentId}  the receipt

type Form = Record<string, string | string[] | undefined>;

const one = (f: Form, name: string): string => {
  const v = f[name];
  return (Array.isArray(v) ? v[0] : v ?? '').trim();
};
const all = (f: Form, name: string): string[] => {
  const v = f[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
};

const METHOD_LABEL: Record<PayMethod, string> = { card: 'Credit or debit card', bank: 'Bank transfer (ACH / eCheck)' };

function describeFee(rule: FeeRule, currency: string): string {
  const parts = [];
  if (rule.percent) parts.push(`${rule.percent}%`);
  if (rule.fixedMinor) parts.push(money(rule.fixedMinor, currency));
  return parts.length ? `fee ${parts.join(' + ')}` : 'no fee';
}

/** Fee rule as integers for the preview script: parts per million plus the fixed minor units. */
function ppm(rule: FeeRule): number {
  const d = dec(rule.percent);
  return Number(d.n * 10n ** BigInt(Math.max(0, 4 - d.s)) / 10n ** BigInt(Math.max(0, d.s - 4)));
}

interface Selection {
  allocations: Array<{ invoiceId: string; amountMinor: number }>;
  method: PayMethod;
}

function readSelection(form: Form, currency: string, invoices: InvoiceRow[]): Selection {
  const method = one(form, 'method') || 'card';
  if (method !== 'card' && method !== 'bank') throw new PaymentDeclined('Choose a payment method.');
  const allocations = all(form, 'invoice').map((invoiceId) => {
    const text = one(form, `amount_${invoiceId}`);
    const number = invoices.find((i) => i.id === invoiceId)?.number ?? '';
    let amountMinor: number;
    try {
      amountMinor = parseDecimal(text.replace(/[,$\s]/g, ''), currency);
    } catch {
      throw new PaymentDeclined(`Enter a valid amount for invoice ${number}.`);
    }
    return { invoiceId, amountMinor };
  });
  return { allocations, method };
}

export function registerPayPage(app: FastifyInstance, ctx: SandboxContext): void {
  const html = (reply: FastifyReply, title: string, body: string, script = '', status = 200) =>
    reply.code(status).type('text/html; charset=utf-8').send(page(title, body, script));

  const lookup = (key: string) => {
    const found = ctx.store.invitation(key);
    if (!found) return undefined;
    const client = ctx.store.client(found.invoice.client_id)!;
    return { ...found, client, currency: ctx.store.currencyOf(client) };
  };

  const selectPage = (reply: FastifyReply, key: string, client: ClientRow, currency: string, current: InvoiceRow, error?: string, prior?: Selection) => {
    const invoices = payableInvoices(ctx, client.id);
    const k = encodeURIComponent(key);
    if (invoices.length === 0) {
      return html(reply, 'Nothing to pay', `<div class="card"><h1>Nothing to pay</h1><p class="muted">There is no open balance on your account.</p>
<div class="actions"><a class="btn" href="/client/invoice/${k}?silent=true">View invoice ${esc(current.number)}</a></div></div>`);
    }
    const chosen = (id: string) => (prior ? prior.allocations.some((a) => a.invoiceId === id) : id === current.id);
    const amountOf = (inv: InvoiceRow) => {
      const a = prior?.allocations.find((x) => x.invoiceId === inv.id);
      return formatDecimal(a ? a.amountMinor : inv.partial > 0 ? inv.partial : inv.balance, currency);
    };
    const method = prior?.method ?? 'card';
    const rows = invoices
      .map(
        (inv) => `<tr>
  <td><input type="checkbox" name="invoice" value="${esc(inv.id)}" id="pick-${esc(inv.number)}" data-balance="${inv.balance}" ${chosen(inv.id) ? 'checked' : ''}></td>
  <td><label for="pick-${esc(inv.number)}" style="margin:0">${esc(inv.number)}</label></td>
  <td>${esc(inv.due_date || inv.date)}</td>
  <td class="num">${money(inv.balance, currency)}</td>
  <td class="num"><input class="amount" type="text" inputmode="decimal" name="amount_${esc(inv.id)}" id="amount-${esc(inv.number)}" value="${esc(amountOf(inv))}"></td>
</tr>`,
      )
      .join('');
    const exp = ctx.store.precisionOf(client);
    const body = `${error ? `<div class="error" role="alert">${esc(error)}</div>` : ''}
<form method="post" action="/client/pay/${k}/review" id="pay-form">
<div class="card">
  <h1>Pay invoices</h1>
  <p class="muted">Select the invoices to pay. You can pay the full balance or enter a smaller amount.</p>
  <table><thead><tr><th></th><th>Invoice</th><th>Due</th><th class="num">Balance</th><th class="num">Amount to pay</th></tr></thead><tbody>${rows}</tbody></table>
</div>
<div class="card">
  <h2>Payment method</h2>
  <div class="method">
    ${(['card', 'bank'] as const)
      .map(
        (m) => `<label><input type="radio" name="method" value="${m}" id="method-${m}" ${method === m ? 'checked' : ''}> ${METHOD_LABEL[m]} <span class="muted">(${esc(describeFee(ctx.fees[m], currency))})</span></label>`,
      )
      .join('')}
  </div>
  <table class="summary" style="max-width:360px;margin-left:auto">
    <tr><td>Selected</td><td class="num" id="sum-selected">–</td></tr>
    <tr><td>Convenience fee</td><td class="num" id="sum-fee">–</td></tr>
    <tr><td><b>Total</b></td><td class="num"><b id="sum-total">–</b></td></tr>
  </table>
  <div class="actions"><button class="btn primary" type="submit" id="continue">Continue</button>
  <a class="btn" href="/client/invoice/${k}?silent=true">Back to invoice</a></div>
</div>
</form>`;
    const fees = { card: { ppm: ppm(ctx.fees.card), fixed: ctx.fees.card.fixedMinor }, bank: { ppm: ppm(ctx.fees.bank), fixed: ctx.fees.bank.fixedMinor } };
    const script = `(function(){
var fees=${JSON.stringify(fees)},exp=${exp},cur=${JSON.stringify(currency)},sym=${JSON.stringify(currencySymbol(currency) ?? '')};
function minor(t){t=String(t).replace(/[,$\\s]/g,'');if(!/^\\d*(\\.\\d*)?$/.test(t)||t===''||t==='.')return NaN;var p=t.split('.');var f=((p[1]||'')+'000000').slice(0,exp+1);var v=Number(p[0]||'0')*Math.pow(10,exp)+Number(f.slice(0,exp)||'0');if(exp>0&&Number(f[exp])>=5)v+=1;if(exp===0&&Number(f[0])>=5)v+=1;return v;}
function fmt(m){var s=String(Math.abs(m));while(s.length<exp+1)s='0'+s;var i=exp?s.slice(0,-exp):s,f=exp?'.'+s.slice(-exp):'';var t=i.replace(/\\B(?=(\\d{3})+$)/g,',')+f;return (m<0?'-':'')+(sym?sym+t:t+' '+cur);}
function update(){var sum=0,ok=true;document.querySelectorAll('input[name=invoice]').forEach(function(c){if(!c.checked)return;var v=minor(document.querySelector('[name="amount_'+c.value+'"]').value);if(isNaN(v)||v<=0||v>Number(c.dataset.balance))ok=false;else sum+=v;});
var m=(document.querySelector('input[name=method]:checked')||{}).value||'card',r=fees[m];var fee=sum>0?Math.floor((sum*r.ppm+500000)/1000000)+r.fixed:0;
document.getElementById('sum-selected').textContent=ok?fmt(sum):'check the amounts';document.getElementById('sum-fee').textContent=ok?fmt(fee):'–';document.getElementById('sum-total').textContent=ok?fmt(sum+fee):'–';}
document.getElementById('pay-form').addEventListener('input',update);document.getElementById('pay-form').addEventListener('change',update);update();})();`;
    return html(reply, 'Pay invoices', body, script, error ? 422 : 200);
  };

  const reviewPage = (reply: FastifyReply, key: string, client: ClientRow, currency: string, sel: Selection, error?: string) => {
    const k = encodeURIComponent(key);
    const allocations = resolveAllocations(ctx, client.id, sel.allocations);
    const subtotal = allocations.reduce((s, a) => s + a.amount, 0);
    const fee = feeFor(ctx.fees[sel.method], subtotal, ctx.store.precisionOf(client));
    const hidden = [
      `<input type="hidden" name="method" value="${sel.method}">`,
      `<input type="hidden" name="fee_shown" value="${fee}">`,
      ...allocations.map(
        (a) => `<input type="hidden" name="invoice" value="${esc(a.invoice.id)}"><input type="hidden" name="amount_${esc(a.invoice.id)}" value="${esc(formatDecimal(a.amount, currency))}">`,
      ),
    ].join('');
    const lines = allocations
      .map((a) => `<tr><td>Invoice ${esc(a.invoice.number)}</td><td class="num">${money(a.amount, currency)}</td></tr>`)
      .join('');
    const details =
      sel.method === 'card'
        ? `<label for="card_name">Name on card</label><input type="text" id="card_name" name="card_name" autocomplete="cc-name" value="${esc(client.text.name)}">
<label for="card_number">Card number</label><input type="text" id="card_number" name="card_number" inputmode="numeric" autocomplete="cc-number" placeholder="4242 4242 4242 4242">
<div class="row"><div></div><div><label for="card_expiry">Expiry (MM/YY)</label><input type="text" id="card_expiry" name="card_expiry" placeholder="12/30"></div>
<div><label for="card_cvc">Security code</label><input type="text" id="card_cvc" name="card_cvc" inputmode="numeric" placeholder="123"></div></div>
<label class="check"><input type="checkbox" name="save_card" value="1"> Save this card for automatic payments</label>
<p class="muted">Test gateway: 4242 4242 4242 4242 is approved, 4000 0000 0000 0002 is declined.</p>`
        : `<label for="bank_name">Account holder</label><input type="text" id="bank_name" name="bank_name" value="${esc(client.text.name)}">
<div class="row"><div><label for="bank_account">Account number</label><input type="text" id="bank_account" name="bank_account" inputmode="numeric"></div>
<div><label for="bank_routing">Routing number</label><input type="text" id="bank_routing" name="bank_routing" inputmode="numeric" placeholder="110000000"></div><div></div></div>
<p class="muted">Bank payments are pending until your bank confirms them, usually within a few days.</p>`;
    const body = `${error ? `<div class="error" role="alert">${esc(error)}</div>` : ''}
<form method="post" action="/client/pay/${k}/confirm" id="confirm-form">${hidden}
<div class="card">
  <h1>Review your payment</h1>
  <table class="summary" style="max-width:420px">${lines}
    <tr><td>Convenience fee (${esc(METHOD_LABEL[sel.method])})</td><td class="num" id="review-fee">${money(fee, currency)}</td></tr>
    <tr><td><b>Total to pay</b></td><td class="num"><b id="review-total">${money(subtotal + fee, currency)}</b></td></tr>
  </table>
</div>
<div class="card">
  <h2>${esc(METHOD_LABEL[sel.method])}</h2>
  ${details}
  ${fee > 0 ? `<label class="check"><input type="checkbox" name="agree_fee" value="1" id="agree_fee" required> I agree to the convenience fee of ${money(fee, currency)}.</label>` : ''}
  <div class="actions"><button class="btn primary" type="submit" id="submit-payment">Pay ${money(subtotal + fee, currency)}</button>
  <a class="btn" href="/client/pay/${k}">Change selection</a></div>
</div></form>`;
    return html(reply, 'Review payment', body, '', error ? 422 : 200);
  };

  app.get<{ Params: { key: string } }>('/client/pay/:key', async (req, reply) => {
    const found = lookup(req.params.key);
    if (!found) return notFoundPage(reply);
    return selectPage(reply, req.params.key, found.client, found.currency, found.invoice);
  });

  app.post<{ Params: { key: string } }>('/client/pay/:key/review', async (req, reply) => {
    const found = lookup(req.params.key);
    if (!found) return notFoundPage(reply);
    const form = (req.body ?? {}) as Form;
    const invoices = payableInvoices(ctx, found.client.id);
    let sel: Selection | undefined;
    try {
      sel = readSelection(form, found.currency, invoices);
      return reviewPage(reply, req.params.key, found.client, found.currency, sel);
    } catch (err) {
      if (!(err instanceof PaymentDeclined)) throw err;
      return selectPage(reply, req.params.key, found.client, found.currency, found.invoice, err.message, sel);
    }
  });

  app.post<{ Params: { key: string } }>('/client/pay/:key/confirm', async (req, reply) => {
    const found = lookup(req.params.key);
    if (!found) return notFoundPage(reply);
    const form = (req.body ?? {}) as Form;
    const invoices = payableInvoices(ctx, found.client.id);
    let sel: Selection;
    try {
      sel = readSelection(form, found.currency, invoices);
    } catch (err) {
      if (!(err instanceof PaymentDeclined)) throw err;
      return selectPage(reply, req.params.key, found.client, found.currency, found.invoice, err.message);
    }
    try {
      const allocations = resolveAllocations(ctx, found.client.id, sel.allocations);
      const subtotal = allocations.reduce((s, a) => s + a.amount, 0);
      const fee = feeFor(ctx.fees[sel.method], subtotal, ctx.store.precisionOf(found.client));
      if (fee > 0 && one(form, 'fee_shown') !== String(fee)) throw new PaymentDeclined('Please review the convenience fee before paying.');
      if (fee > 0 && one(form, 'agree_fee') !== '1') throw new PaymentDeclined('Please agree to the convenience fee to continue.');
      const payment = payInPortal(ctx, {
        invitationKey: req.params.key,
        allocations: sel.allocations,
        method: sel.method,
        card: { number: one(form, 'card_number'), expiry: one(form, 'card_expiry'), cvc: one(form, 'card_cvc'), name: one(form, 'card_name') },
        bank: { routing: one(form, 'bank_routing'), account: one(form, 'bank_account'), name: one(form, 'bank_name') },
        saveCard: one(form, 'save_card') === '1',
      });
      return reply.code(303).header('location', `/client/pay/${encodeURIComponent(req.params.key)}/receipt/${payment.id}`).send();
    } catch (err) {
      if (!(err instanceof PaymentDeclined)) throw err;
      try {
        return reviewPage(reply, req.params.key, found.client, found.currency, sel, err.message);
      } catch (again) {
        if (!(again instanceof PaymentDeclined)) throw again;
        return selectPage(reply, req.params.key, found.client, found.currency, found.invoice, again.message);
      }
    }
  });

  app.get<{ Params: { key: string; paymentId: string } }>('/client/pay/:key/receipt/:paymentId', async (req, reply) => {
    const found = lookup(req.params.key);
    const payment = ctx.store.payment(req.params.paymentId);
    if (!found || !payment || payment.client_id !== found.client.id) return notFoundPage(reply);
    const { currency } = found;
    const pending = payment.status_id === PAYMENT_STATUS.PENDING;
    const failed = payment.status_id === PAYMENT_STATUS.FAILED;
    const rows = payment.paymentables
      .map((pb) => {
        const inv = ctx.store.invoice(pb.invoice_id);
        return `<tr><td>Invoice ${esc(inv?.number)}</td><td class="num">${money(pb.amount, currency)}</td><td class="num">${inv ? money(inv.balance, currency) : ''}</td></tr>`;
      })
      .join('');
    const status = failed ? 'Failed' : pending ? 'Pending' : 'Completed';
    const body = `<div class="${failed ? 'error' : 'success'}" id="receipt-status" role="status">${
      failed ? 'This payment failed and was not taken.' : pending ? 'Payment submitted. Bank payments are pending until your bank confirms them.' : 'Payment successful. Thank you!'
    }</div>
<div class="card">
  <h1>Receipt ${esc(payment.number)} ${statusBadge(status)}</h1>
  <div class="grid">
    <div class="stat"><span class="muted">Date</span><b>${esc(payment.date)}</b></div>
    <div class="stat"><span class="muted">Method</span><b>${payment.gateway_type_id === '2' ? 'Bank transfer' : 'Card'}</b></div>
    <div class="stat"><span class="muted">Amount paid</span><b id="receipt-amount">${money(payment.amount, currency)}</b></div>
    <div class="stat"><span class="muted">Convenience fee</span><b id="receipt-fee">${money(payment.fee?.amount ?? 0, currency)}</b></div>
  </div>
  <table><thead><tr><th>Applied to</th><th class="num">Amount</th><th class="num">Remaining balance</th></tr></thead><tbody>${rows}</tbody></table>
  <p class="muted">Reference ${esc(payment.transaction_reference)}</p>
  <div class="actions"><button class="btn" type="button" onclick="window.print()">Print receipt</button>
  <a class="btn" href="/client/invoice/${encodeURIComponent(req.params.key)}?silent=true">Back to invoice</a></div>
</div>`;
    return html(reply, `Receipt ${payment.number}`, body);
  });
}

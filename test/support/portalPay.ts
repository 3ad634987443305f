import axios from 'axios';

/**
 * Pays on the sandbox portal's pay page exactly as its plain HTML form does (no JavaScript): choose invoices and
 * amounts, review (which shows the convenience fee), confirm. Returns the payment id from the receipt redirect.
 */
export async function payOnPortal(
  portalUrl: string,
  invitationKey: string,
  allocations: Array<{ invoiceId: string; amount: string }>,
  method: 'card' | 'bank' = 'card',
): Promise<{ paymentId: string; feeMinor: number }> {
  const form = new URLSearchParams();
  form.append('method', method);
  for (const a of allocations) {
    form.append('invoice', a.invoiceId);
    form.append(`amount_${a.invoiceId}`, a.amount);
  }
  const http = axios.create({ baseURL: portalUrl, maxRedirects: 0, validateStatus: () => true });
  const review = await http.post(`/client/pay/${invitationKey}/review`, form.toString(), { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  if (review.status !== 200) throw new Error(`review answered ${review.status}`);
  const fee = /name="fee_shown" value="(\d+)"/.exec(review.data as string)?.[1] ?? '0';
  form.append('fee_shown', fee);
  form.append('agree_fee', '1');
  if (method === 'card') {
    form.append('card_name', 'Test Payer');
    form.append('card_number', '4242424242424242');
    form.append('card_expiry', '12/30');
    form.append('card_cvc', '123');
  } else {
    form.append('bank_name', 'Test Payer');
    form.append('bank_account', '000123456789');
    form.append('bank_routing', '110000000');
  }
  const confirm = await http.post(`/client/pay/${invitationKey}/confirm`, form.toString(), { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const location = confirm.headers.location as string | undefined;
  const paymentId = location && /\/receipt\/([^/?]+)/.exec(location)?.[1];
  if (confirm.status !== 303 || !paymentId) {
    const msg = /class="error"[^>]*>([^<]+)/.exec(String(confirm.data))?.[1];
    throw new Error(`payment not accepted (HTTP ${confirm.status}${msg ? `: ${msg}` : ''})`);
  }
  return { paymentId, feeMinor: Number(fee) };
}

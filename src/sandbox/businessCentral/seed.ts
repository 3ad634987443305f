import { createHash } from 'node:crypto';
import { nowIso } from './clock';
import type { BcState, CustomerRec } from './model';

// Demo data for a fresh sandbox: one company in the style of "CRONUS USA, Inc." with a fixed id, a small chart of
// accounts, payment methods with balancing accounts, customers (one without email, one in posting group EXPORT),
// the ARSYNC cash receipt batch our service posts to, and a general journal batch for refunds/reversals.

export const DEMO_COMPANY_ID = '6f0e3a4c-2b1d-4c5e-9a7b-8c9d0e1f2a3b';
export const DEMO = {
  companyId: DEMO_COMPANY_ID,
  paymentBatch: 'ARSYNC',
  generalBatch: 'REFUNDS',
  checkingAccount: '10100',
  cardClearingAccount: '10200',
  feeAccount: '65100',
  customers: { withEmail: 'C10000', second: 'C20000', withoutEmail: 'C30000', export: 'C40000' },
} as const;

/** Stable GUIDs for seeded records, so a re-seeded sandbox has the same ids. */
export function seedId(name: string): string {
  const h = createHash('sha1').update(`arsync-bc-sandbox:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Seeds the demo company (tests pass their own company id, so parallel sandboxes never share business ids). */
export function seedDemo(state: BcState, companyId: string = DEMO_COMPANY_ID): void {
  if (state.companies.some((c) => c.id === companyId)) return;
  const at = nowIso();
  state.companies.push({
    id: companyId,
    name: 'CRONUS USA, Inc.',
    displayName: 'CRONUS USA, Inc.',
    businessProfileId: '',
    lcyCode: 'USD',
    createdAt: at,
    lastModifiedDateTime: at,
  });
  const accounts: [string, string, 'Assets' | 'Liabilities' | 'Income' | 'Expense'][] = [
    ['10100', 'Checking Account', 'Assets'],
    ['10200', 'Card Payments Clearing', 'Assets'],
    ['13100', 'Customers, Domestic', 'Assets'],
    ['13200', 'Customers, Foreign', 'Assets'],
    ['23100', 'Sales Tax Payable', 'Liabilities'],
    ['40100', 'Sales, Services', 'Income'],
    ['65100', 'Payment Processing Fees', 'Expense'],
    ['69100', 'Invoice Rounding', 'Expense'],
  ];
  for (const [number, displayName, category] of accounts)
    state.glAccounts.push({ id: seedId(`gl:${number}`), companyId, number, displayName, category, lastModifiedDateTime: at });
  const methods: [string, string, string][] = [
    ['CARD', 'Credit card (payment portal)', '10200'],
    ['BANK', 'Bank transfer / ACH', '10100'],
    ['CHECK', 'Check', ''],
  ];
  for (const [code, displayName, balAccountNumber] of methods)
    state.paymentMethods.push({ id: seedId(`pm:${code}`), companyId, code, displayName, balAccountNumber, lastModifiedDateTime: at });
  const customer = (c: Partial<CustomerRec> & Pick<CustomerRec, 'number' | 'displayName'>): CustomerRec => ({
    id: seedId(`customer:${c.number}`),
    companyId,
    type: 'Company',
    addressLine1: '',
    addressLine2: '',
    city: '',
    state: '',
    country: 'US',
    postalCode: '',
    phoneNumber: '',
    email: '',
    website: '',
    taxLiable: true,
    currencyCode: '',
    paymentMethodCode: 'CARD',
    postingGroup: 'DOMESTIC',
    blocked: '',
    createdAt: at,
    lastModifiedDateTime: at,
    ...c,
  });
  state.customers.push(
    customer({ number: 'C10000', displayName: 'Adatum Corporation', email: 'ap@adatum.example', phoneNumber: '+1 404 555 0101', addressLine1: '192 Market Square', city: 'Atlanta', state: 'GA', postalCode: '31772' }),
    customer({ number: 'C20000', displayName: 'Trey Research', email: 'billing@treyresearch.example', phoneNumber: '+1 312 555 0102', addressLine1: '153 Thomas Drive', city: 'Chicago', state: 'IL', postalCode: '61236', paymentMethodCode: 'BANK' }),
    customer({ number: 'C30000', displayName: 'School of Fine Art', phoneNumber: '+1 305 555 0103', addressLine1: '10 High Tower Green', city: 'Miami', state: 'FL', postalCode: '37125', paymentMethodCode: 'CHECK' }),
    customer({ number: 'C40000', displayName: 'Alpine Ski House', email: 'accounts@alpineskihouse.example', phoneNumber: '+1 206 555 0104', addressLine1: '10 Deertrack Lane', city: 'Vancouver', state: 'BC', country: 'CA', postalCode: 'V6B 4Y8', postingGroup: 'EXPORT', taxLiable: false }),
  );
  const batch = (template: 'CASHRCPT' | 'GENERAL', code: string, displayName: string, balAccountNumber: string, noSeriesPrefix: string) =>
    state.journalBatches.push({
      id: seedId(`batch:${template}:${code}`),
      companyId,
      template,
      code,
      displayName,
      balAccountType: 'G/L Account',
      balAccountNumber,
      noSeriesPrefix,
      nextNo: 1,
      lastModifiedDateTime: at,
    });
  batch('CASHRCPT', 'ARSYNC', 'Payment portal receipts (arsync)', '10200', 'ARS');
  batch('CASHRCPT', 'DEFAULT', 'Cash receipts', '10100', 'CR');
  batch('GENERAL', 'REFUNDS', 'Refunds and reversals (arsync)', '10200', 'RFD');
  batch('GENERAL', 'DEFAULT', 'General journal', '', 'GJ');
}

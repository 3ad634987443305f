import { createHash, randomBytes } from 'node:crypto';
import Hashids from 'hashids';
import { JsonStore } from '../common/jsonStore';
import { currencyCodeFor, USD_CURRENCY_ID } from '../../adapters/invoiceNinja/currencies';
import { exponentOf } from '../../domain/money';
import { type ClientRow, type Counter, initialState, type InvoiceRow, type PaymentRow, type SandboxState } from './model';

// Invoice Ninja encodes every table's auto-increment id with hashids (min length 10, empty salt by default), so
// id 1 is "VolejRejNm" in every table: a client and an invoice can share an id string, as on the real server.

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomKey(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += ALNUM[bytes[i] % ALNUM.length];
  return out;
}

export function sha1(data: Buffer | string): string {
  return createHash('sha1').update(data).digest('hex');
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Today as Y-m-d (the sandbox company's timezone is UTC). */
export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** A datetime as Invoice Ninja's transformers print it ("2024-10-01 12:34:56"). */
export function nowDateTime(): string {
  return new Date().toISOString().slice(0, 19).replace('T', ' ');
}

interface Lookups {
  invoiceByNumber: Map<string, InvoiceRow>;
  invoicesOfClient: Map<string, InvoiceRow[]>;
  paymentsOfClient: Map<string, PaymentRow[]>;
}

function push<T>(map: Map<string, T[]>, key: string, row: T): void {
  const rows = map.get(key);
  if (rows) rows.push(row);
  else map.set(key, [row]);
}

export class SandboxStore {
  private readonly json: JsonStore<SandboxState>;

  private readonly hashids: Hashids;

  // Lookups built from the state on first use (it may come from a file) and kept by addInvoice, setInvoiceNumber and
  // addPayment; rows never change their client and are never removed (deleting marks them). Without them every invoice
  // created scanned every invoice and payment, and a sandbox holding thousands spent more on that than on the request.
  private cached: Lookups | undefined;

  /** `idSalt` plays the role of the app key's salt: two portals with different salts never share ids. */
  constructor(file: string | undefined, webhookDelayMs: number, idSalt = '') {
    this.hashids = new Hashids(idSalt, 10);
    this.json = new JsonStore<SandboxState>(file, () => initialState(webhookDelayMs));
  }

  get state(): SandboxState {
    return this.json.state;
  }

  touch(): void {
    this.json.touch();
  }

  flush(): void {
    this.json.flush();
  }

  nextId(kind: Counter): string {
    this.state.counters[kind] += 1;
    return this.hashids.encode(this.state.counters[kind]);
  }

  /** Auto numbers ("0001") per entity, skipping numbers already taken by hand. */
  nextNumber(kind: 'client' | 'invoice' | 'payment', taken: (n: string) => boolean): string {
    for (;;) {
      this.state.numbers[kind] += 1;
      const candidate = String(this.state.numbers[kind]).padStart(4, '0');
      if (!taken(candidate)) return candidate;
    }
  }

  client(id: string): ClientRow | undefined {
    return Object.prototype.hasOwnProperty.call(this.state.clients, id) ? this.state.clients[id] : undefined;
  }

  invoice(id: string): InvoiceRow | undefined {
    return Object.prototype.hasOwnProperty.call(this.state.invoices, id) ? this.state.invoices[id] : undefined;
  }

  payment(id: string): PaymentRow | undefined {
    return Object.prototype.hasOwnProperty.call(this.state.payments, id) ? this.state.payments[id] : undefined;
  }

  clients(): ClientRow[] {
    return Object.values(this.state.clients);
  }

  invoices(): InvoiceRow[] {
    return Object.values(this.state.invoices);
  }

  payments(): PaymentRow[] {
    return Object.values(this.state.payments);
  }

  /** The invoice with this number (numbers are unique across all invoices, deleted ones too). */
  invoiceNumbered(number: string): InvoiceRow | undefined {
    return this.lookups().invoiceByNumber.get(number);
  }

  /** A client's invoices, in the order they were created. */
  invoicesOf(clientId: string): readonly InvoiceRow[] {
    return this.lookups().invoicesOfClient.get(clientId) ?? [];
  }

  /** A client's payments, in the order they were created. */
  paymentsOf(clientId: string): readonly PaymentRow[] {
    return this.lookups().paymentsOfClient.get(clientId) ?? [];
  }

  addInvoice(inv: InvoiceRow): void {
    this.state.invoices[inv.id] = inv;
    const l = this.lookups();
    if (inv.number) l.invoiceByNumber.set(inv.number, inv);
    push(l.invoicesOfClient, inv.client_id, inv);
  }

  /** Every write of an invoice's number comes through here, so the number lookup stays true. */
  setInvoiceNumber(inv: InvoiceRow, number: string): void {
    const l = this.lookups();
    if (l.invoiceByNumber.get(inv.number) === inv) l.invoiceByNumber.delete(inv.number);
    inv.number = number;
    if (this.invoice(inv.id) === inv) l.invoiceByNumber.set(number, inv);
  }

  addPayment(payment: PaymentRow): void {
    this.state.payments[payment.id] = payment;
    push(this.lookups().paymentsOfClient, payment.client_id, payment);
  }

  private lookups(): Lookups {
    if (this.cached) return this.cached;
    const l: Lookups = { invoiceByNumber: new Map(), invoicesOfClient: new Map(), paymentsOfClient: new Map() };
    for (const inv of this.invoices()) {
      if (inv.number) l.invoiceByNumber.set(inv.number, inv);
      push(l.invoicesOfClient, inv.client_id, inv);
    }
    for (const p of this.payments()) push(l.paymentsOfClient, p.client_id, p);
    return (this.cached = l);
  }

  /** The invoice and its invitation for a portal key. */
  invitation(key: string): { invoice: InvoiceRow; invitationIndex: number } | undefined {
    for (const invoice of this.invoices()) {
      const i = invoice.invitations.findIndex((inv) => inv.key === key);
      if (i >= 0) return { invoice, invitationIndex: i };
    }
    return undefined;
  }

  currencyIdOf(client: ClientRow): string {
    const id = client.settings.currency_id;
    return typeof id === 'string' || typeof id === 'number' ? String(id) : USD_CURRENCY_ID;
  }

  currencyOf(client: ClientRow): string {
    return currencyCodeFor(this.currencyIdOf(client)) ?? 'USD';
  }

  precisionOf(client: ClientRow): number {
    return exponentOf(this.currencyOf(client));
  }
}

import { randomBytes } from 'node:crypto';
import addressparser from 'nodemailer/lib/addressparser';
import { encodeWord, encodeWords, foldLines } from 'nodemailer/lib/mime-funcs';
import { encode as qpEncode, wrap as qpWrap } from 'nodemailer/lib/qp';

// The MIME text of a link message (plain text, optionally with an HTML alternative), built in one pass. nodemailer's
// composer builds every message through a tree of streams: about half the CPU of a send on a sync burst. Its header
// and quoted-printable encoders are used here as they are; only the assembly is ours. A message outside this shape
// (an address that is not plain ASCII) is left to nodemailer's composer (`null`).

export interface MimeMessage {
  /** As configured, e.g. `"Cronus Billing" <billing@cronus.example>`. */
  from: string;
  to: readonly string[];
  replyTo?: string;
  subject: string;
  text: string;
  html?: string;
  /** With its angle brackets. */
  messageId: string;
  date?: Date;
}

export interface ComposedMime {
  raw: string;
  envelope: { from: string; to: string[] };
}

const ASCII_ADDRESS = /^[\x21-\x7e]+@[\x21-\x7e]+$/;
const PLAIN_NAME = /^[\w ]*$/;
const PRINTABLE = /^[\x20-\x7e]*$/;
/** nodemailer's encodeWords with its fourth parameter (encode the whole value once anything needs it), untyped upstream. */
const encodeAllWords = encodeWords as (value: string, encoding: 'Q' | 'B', maxLength: number, encodeAll: boolean) => string;
/** Characters a header cannot carry as they are (CR and LF among them: a line break would start a header of its own). */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/** A display name as nodemailer writes it: bare when plain, quoted when printable ASCII, else an encoded word. */
function encodeName(name: string): string {
  if (PLAIN_NAME.test(name)) return name;
  if (PRINTABLE.test(name)) return `"${name.replace(/(["\\])/g, '\\$1')}"`;
  return encodeWord(name, 'Q', 52);
}

/** The one address of `value` (a name may come with it); null when there is not exactly one plain ASCII address. */
function singleAddress(value: string): { name: string; address: string } | null {
  const parsed = addressparser(value, { flatten: true });
  if (parsed.length !== 1) return null;
  const { name, address } = parsed[0]!;
  return address && ASCII_ADDRESS.test(address) ? { name: name ?? '', address } : null;
}

function header(name: string, value: string): string {
  return foldLines(`${name}: ${value}`, 76);
}

/** CRLF line ends (a bare CR or LF too), then quoted-printable in lines of at most 76 characters. */
function bodyPart(type: 'plain' | 'html', content: string): string {
  const crlf = content.replace(/\r\n|\r|\n/g, '\r\n');
  return `Content-Type: text/${type}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${qpWrap(qpEncode(crlf), 76)}`;
}

export function composeMime(m: MimeMessage): ComposedMime | null {
  const from = singleAddress(m.from);
  const to = m.to.map(singleAddress);
  const replyTo = m.replyTo === undefined ? null : singleAddress(m.replyTo);
  if (!from || to.some((a) => a === null) || (m.replyTo !== undefined && !replyTo)) return null;
  const addr = (a: { name: string; address: string }) => (a.name ? `${encodeName(a.name)} <${a.address}>` : a.address);
  // As nodemailer writes an unstructured header: a control character forces the whole value into one encoded word;
  // otherwise only a value with a quote, non-ASCII text or something that reads as an encoded word is encoded.
  const subject = CONTROL.test(m.subject) ? encodeWord(m.subject, 'Q', 52) : encodeAllWords(m.subject, 'Q', 52, true);
  const headers = [
    header('From', addr(from)),
    header('To', to.map((a) => addr(a!)).join(', ')),
    ...(replyTo ? [header('Reply-To', addr(replyTo))] : []),
    header('Subject', subject),
    `Message-ID: ${m.messageId}`,
    `Date: ${(m.date ?? new Date()).toUTCString().replace(/GMT/, '+0000')}`,
    'MIME-Version: 1.0',
  ];
  let body: string;
  if (m.html === undefined) {
    body = bodyPart('plain', m.text);
  } else {
    const boundary = `--_arsync_${randomBytes(12).toString('hex')}`;
    headers.push(`Content-Type: multipart/alternative;\r\n boundary="${boundary}"`);
    body = `\r\n--${boundary}\r\n${bodyPart('plain', m.text)}\r\n--${boundary}\r\n${bodyPart('html', m.html)}\r\n--${boundary}--\r\n`;
  }
  // A single part carries its own Content-Type and Content-Transfer-Encoding as the message's last headers.
  return { raw: `${headers.join('\r\n')}\r\n${body}`, envelope: { from: from.address, to: to.map((a) => a!.address) } };
}

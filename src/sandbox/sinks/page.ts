import type { FastifyInstance } from 'fastify';
import { escapeHtml, linkify } from './html';
import type { MailIntake } from './mailIntake';
import type { SinkStore, StoredMail, StoredSms } from './store';

// `GET /`: one small page listing the newest mail and SMS, for a person looking at what the system sent.

const SHOWN = 100;

const time = (iso: string) => escapeHtml(iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z'));

function mailRow(m: StoredMail): string {
  const view = m.html !== null || m.text !== null ? `<a href="/mail/${m.id}/html">view</a> · ` : '';
  return `<tr>
  <td>${time(m.receivedAt)}</td>
  <td>${escapeHtml(m.envelopeTo.join(', '))}</td>
  <td>${escapeHtml(m.subject || '(no subject)')}${m.duplicate ? ' <span class="tag">repeat</span>' : ''}</td>
  <td>${view}<a href="/mail/${m.id}">json</a></td>
</tr>`;
}

function smsRow(s: StoredSms): string {
  return `<tr>
  <td>${time(s.createdAt)}</td>
  <td>${escapeHtml(s.to)}</td>
  <td>${escapeHtml(s.from)}</td>
  <td class="body">${linkify(s.body)}</td>
</tr>`;
}

export function renderIndex(mail: StoredMail[], sms: StoredSms[]): string {
  const none = (cols: number, what: string) => `<tr><td colspan="${cols}" class="none">No ${what} yet.</td></tr>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>arsync mail &amp; SMS sink</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #1d2330; }
  h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; margin-top: 2rem; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #e3e6ec; vertical-align: top; }
  th { font-weight: 600; color: #566; } td.body { white-space: pre-wrap; word-break: break-word; }
  .none { color: #889; } .tag { font-size: .75rem; background: #eef; border-radius: 3px; padding: 0 .3rem; }
  a { color: #1a5fd0; }
</style>
</head>
<body>
<h1>arsync mail &amp; SMS sink</h1>
<p>Everything the system sent, newest first. JSON: <a href="/mail">/mail</a> · <a href="/sms">/sms</a></p>
<h2>Mail (${mail.length})</h2>
<table>
<tr><th>Received</th><th>To</th><th>Subject</th><th></th></tr>
${mail.length ? mail.slice(0, SHOWN).map(mailRow).join('\n') : none(4, 'mail')}
</table>
<h2>SMS (${sms.length})</h2>
<table>
<tr><th>Sent</th><th>To</th><th>From</th><th>Message</th></tr>
${sms.length ? sms.slice(0, SHOWN).map(smsRow).join('\n') : none(4, 'text messages')}
</table>
</body>
</html>`;
}

export function registerIndexPage(app: FastifyInstance, store: SinkStore, intake: MailIntake): void {
  app.get('/', async (_req, reply) => {
    await intake.settle();
    return reply.type('text/html; charset=utf-8').send(renderIndex(store.listMail(), store.listSms()));
  });
}

import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';
import { z } from 'zod';
import { escapeHtml } from './html';
import type { MailIntake } from './mailIntake';
import type { SinkRules, SinkStore } from './store';

// A local SMTP server that accepts every message (no TLS, AUTH optional and never checked) and keeps it for
// inspection over HTTP (parsed by the intake). Recipients listed in the rules are refused at RCPT TO the way a real
// server would.

const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

export interface SmtpSink {
  port: number;
  close(): Promise<void>;
}

function smtpError(responseCode: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode });
}

export async function startSmtpSink(opts: {
  port: number;
  host: string;
  intake: MailIntake;
  rules: () => SinkRules;
}): Promise<SmtpSink> {
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    size: MAX_MESSAGE_BYTES,
    logger: false,
    banner: 'arsync mail sink',
    closeTimeout: 1000,
    // Any credentials are accepted: the sink stands in for a relay whose login we do not test.
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username ?? 'anonymous' });
    },
    onRcptTo(address, _session, callback) {
      const rcpt = address.address.toLowerCase();
      const rules = opts.rules();
      const { rejectMail, deferMail } = rules;
      if (rules.deferNextMail > 0) {
        rules.deferNextMail--;
        return callback(smtpError(451, '4.3.0 Temporary failure, try again later'));
      }
      if (rejectMail.some((a) => a.toLowerCase() === rcpt)) {
        return callback(smtpError(550, `5.1.1 <${address.address}>: Recipient address rejected: User unknown`));
      }
      if (deferMail.some((a) => a.toLowerCase() === rcpt)) {
        return callback(smtpError(451, `4.3.0 <${address.address}>: Temporary failure, try again later`));
      }
      callback();
    },
    onData(stream: SMTPServerDataStream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (err) => callback(smtpError(451, `4.3.0 Could not read message: ${String(err)}`)));
      stream.on('end', () => {
        if (stream.sizeExceeded) return callback(smtpError(552, '5.3.4 Message exceeds fixed maximum message size'));
        const mailFrom = session.envelope.mailFrom;
        const id = randomUUID();
        opts.intake.receive({
          id,
          raw: Buffer.concat(chunks),
          envelopeTo: session.envelope.rcptTo.map((r) => r.address),
          envelopeFrom: mailFrom ? mailFrom.address : null,
          receivedAt: new Date().toISOString(),
        });
        callback(null, `2.0.0 Ok: queued as ${id}`);
      });
    },
  });

  // Connection-level errors (a client hanging up mid-session) are the client's problem; without a listener the
  // emitter would throw and take the whole sink down.
  server.on('error', () => undefined);

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const listQuery = z.object({ to: z.string().optional() });
const idParams = z.object({ id: z.string().min(1) });

/** `GET /mail`, `GET /mail/:id`, `GET /mail/:id/html`, `DELETE /mail`: each sees every mail accepted before it. */
export function registerMailRoutes(app: FastifyInstance, store: SinkStore, intake: MailIntake): void {
  app.get('/mail', async (req) => {
    const { to } = listQuery.parse(req.query);
    await intake.settle();
    return store.listMail(to);
  });

  app.get('/mail/:id', async (req, reply) => {
    await intake.settle();
    const mail = store.findMail(idParams.parse(req.params).id);
    if (!mail) return reply.code(404).send({ error: 'not_found', message: 'No such mail' });
    return mail;
  });

  // The HTML body as the recipient would see it; scripts and remote loads other than images are blocked.
  app.get('/mail/:id/html', async (req, reply) => {
    await intake.settle();
    const mail = store.findMail(idParams.parse(req.params).id);
    if (!mail) return reply.code(404).send({ error: 'not_found', message: 'No such mail' });
    const body = mail.html ?? `<pre>${escapeHtml(mail.text ?? '')}</pre>`;
    return reply
      .header('Content-Security-Policy', "default-src 'none'; img-src * data:; style-src 'unsafe-inline'")
      .type('text/html; charset=utf-8')
      .send(body);
  });

  app.delete('/mail', async (_req, reply) => {
    intake.discard();
    await intake.settle();
    store.clearMail();
    return reply.code(204).send();
  });
}

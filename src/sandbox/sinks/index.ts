import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { z, ZodError } from 'zod';
import { FaultInjector, NO_FAULTS, faultPatchSchema } from '../common/faults';
import { registerIndexPage } from './page';
import { registerSmsProvider, registerSmsRoutes } from './smsSink';
import { MailIntake } from './mailIntake';
import { registerMailRoutes, startSmtpSink } from './smtpSink';
import { SinkStore, sinkRulesSchema, type SinkRules } from './store';

// The embedded stand-ins for an SMTP relay and an SMS provider: one SMTP listener, and one HTTP server carrying the
// SMS provider API, the mail and SMS listings, the overview page and the admin switches.

export interface SinksOptions {
  /** 0 picks a free port. Default 2525. */
  smtpPort?: number;
  /** 0 picks a free port. Default 4030. */
  httpPort?: number;
  host?: string;
  /** Where sink-mail.json and sink-sms.json live; without it everything is kept in memory only. */
  dataDir?: string;
  smsAccountSid: string;
  smsAuthToken: string;
  rules?: Partial<SinkRules>;
  /** Fastify request logging (off by default). */
  logger?: boolean;
}

export interface Sinks {
  smtpPort: number;
  /** Base URL of the HTTP server, e.g. http://127.0.0.1:4030; also the SMS provider's base URL. */
  httpUrl: string;
  /** Live switches; change them here in-process or over `PUT /admin/rules`. */
  rules: SinkRules;
  /** Injected failures of the SMS provider API (`PUT /admin/faults`). */
  faults: FaultInjector;
  store: SinkStore;
  close(): Promise<void>;
}


export async function createSinks(opts: SinksOptions): Promise<Sinks> {
  const host = opts.host ?? '127.0.0.1';
  const store = new SinkStore(opts.dataDir);
  const rules: SinkRules = sinkRulesSchema.parse(opts.rules ?? {});
  const faults = new FaultInjector();

  const intake = new MailIntake(store);
  const smtp = await startSmtpSink({ port: opts.smtpPort ?? 2525, host, intake, rules: () => rules });

  const app = Fastify({ logger: opts.logger ?? false });
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    if (err instanceof ZodError) {
      const issues = err.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
      return reply.code(400).send({ error: 'bad_request', message: issues });
    }
    const status = err.statusCode ?? 500;
    return reply.code(status).send({ error: status >= 500 ? 'internal_error' : 'bad_request', message: err.message });
  });

  registerIndexPage(app, store, intake);
  registerMailRoutes(app, store, intake);
  registerSmsRoutes(app, store);
  registerSmsProvider(app, {
    store,
    accountSid: opts.smsAccountSid,
    authToken: opts.smsAuthToken,
    rules: () => rules,
    faults,
  });

  app.get('/admin/rules', async () => rules);
  app.put('/admin/rules', async (req) => Object.assign(rules, sinkRulesSchema.parse(req.body ?? {})));
  app.get('/admin/faults', async () => faults.settings);
  app.put('/admin/faults', async (req) => faults.configure({ ...NO_FAULTS, ...faultPatchSchema.parse(req.body ?? {}) }));

  try {
    await app.listen({ port: opts.httpPort ?? 4030, host });
  } catch (err) {
    await smtp.close();
    throw err;
  }
  const { port } = app.server.address() as AddressInfo;

  return {
    smtpPort: smtp.port,
    httpUrl: `http://${host}:${port}`,
    rules,
    faults,
    store,
    async close() {
      await smtp.close();
      await app.close();
      await intake.settle();
      store.flush();
    },
  };
}

export type { SinkRules, StoredMail, StoredSms } from './store';

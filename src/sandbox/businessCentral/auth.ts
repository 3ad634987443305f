import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

// A stand-in for Microsoft Entra ID's client-credentials token endpoint (POST /{tenant}/oauth2/v2.0/token, form
// body) and the bearer check every API call goes through. Tokens are opaque and kept in memory only, so after a
// restart clients see a 401 and fetch a new token, as they must with real expiring tokens.

export interface AuthOptions {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  tokenTtlSeconds: number;
}

function entraError(error: string, code: number, description: string) {
  const traceId = randomUUID();
  return {
    error,
    error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${randomUUID()} Timestamp: ${new Date().toISOString()}`,
    error_codes: [code],
    timestamp: new Date().toISOString(),
    trace_id: traceId,
    correlation_id: randomUUID(),
  };
}

export class TokenIssuer {
  private readonly tokens = new Map<string, number>();

  constructor(private readonly opts: AuthOptions) {}

  register(app: FastifyInstance): void {
    app.post<{ Params: { tenant: string }; Body: Record<string, string> }>('/:tenant/oauth2/v2.0/token', async (req, reply) => {
      const body = req.body && typeof req.body === 'object' ? req.body : {};
      if (req.params.tenant !== this.opts.tenantId)
        return reply.code(400).send(entraError('invalid_request', 90002, `Tenant '${req.params.tenant}' not found.`));
      if (body.grant_type !== 'client_credentials')
        return reply.code(400).send(entraError('unsupported_grant_type', 70003, 'The app requested an unsupported grant type.'));
      if (body.client_id !== this.opts.clientId)
        return reply.code(400).send(entraError('unauthorized_client', 700016, `Application with identifier '${body.client_id ?? ''}' was not found in the directory.`));
      if (body.client_secret !== this.opts.clientSecret)
        return reply.code(401).send(entraError('invalid_client', 7000215, 'Invalid client secret provided.'));
      if (!body.scope || !body.scope.endsWith('/.default'))
        return reply.code(400).send(entraError('invalid_scope', 1002012, `The provided value for scope ${body.scope ?? ''} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.`));
      const token = randomBytes(32).toString('base64url');
      this.tokens.set(token, Date.now() + this.opts.tokenTtlSeconds * 1000);
      return reply.send({ token_type: 'Bearer', expires_in: this.opts.tokenTtlSeconds, ext_expires_in: this.opts.tokenTtlSeconds, access_token: token });
    });
  }

  /** True when the Authorization header carries a token we issued that has not expired. */
  verify(header: string | undefined): boolean {
    const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!m) return false;
    const expiresAt = this.tokens.get(m[1]);
    if (expiresAt === undefined) return false;
    if (expiresAt <= Date.now()) {
      this.tokens.delete(m[1]);
      return false;
    }
    return true;
  }

  /** Invalidates every issued token (tests: a token the server no longer accepts). */
  revokeAll(): void {
    this.tokens.clear();
  }
}

import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

// Bearer-token check for the operator/finance routes. Both sides are hashed first, so the comparison runs on equal-length
// buffers in constant time and reveals neither the token nor its length. The token is never logged.

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export function bearerTokenMatches(header: string | undefined, expected: string): boolean {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  // Hash even when there is no token, so a missing header costs the same as a wrong one.
  const presented = digest(match ? match[1] : '');
  return timingSafeEqual(presented, digest(expected)) && match !== null;
}

/** An onRequest hook answering 401 unless the request carries `Authorization: Bearer <token>`. */
export function requireBearerToken(token: string) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (bearerTokenMatches(request.headers.authorization, token)) return;
    request.log.warn({ hasAuthorization: request.headers.authorization !== undefined }, 'operator API: authentication failed');
    return reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="arsync"')
      .send({ error: 'unauthorized', message: 'a valid "Authorization: Bearer <API_TOKEN>" header is required' });
  };
}

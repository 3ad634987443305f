import Fastify from 'fastify';
import { ExternalServiceError } from '../../src/adapters/http/errors';
import { apiErrorHandler } from '../../src/http/errors';

// What the API answers when a system it calls fails: a passing failure past our own retries is the caller's to retry
// (503, with the upstream's Retry-After), a permanent one stays a fault of ours (500); neither says more than which.

describe('API error handler: upstream failures', () => {
  const app = Fastify({ logger: false });
  app.setErrorHandler(apiErrorHandler);
  app.get('/busy', async () => {
    throw new ExternalServiceError('business-central', 'GET sales invoices failed (429): Too many requests', { status: 429, retryable: true, retryAfterMs: 1500 });
  });
  app.get('/down', async () => {
    throw new ExternalServiceError('invoice-ninja', 'GET invoice failed: ECONNRESET', { retryable: true });
  });
  app.get('/refused', async () => {
    throw new ExternalServiceError('business-central', 'POST failed (401): token secret-ish', { status: 401, retryable: false });
  });
  afterAll(() => app.close());

  it('a passing failure answers 503 naming the system, with its Retry-After', async () => {
    const busy = await app.inject({ method: 'GET', url: '/busy' });
    expect(busy.statusCode).toBe(503);
    expect(busy.headers['retry-after']).toBe('2');
    expect(busy.json()).toEqual({ error: 'upstream_unavailable', message: 'business-central is unavailable; retry later' });
    const down = await app.inject({ method: 'GET', url: '/down' });
    expect(down.statusCode).toBe(503);
    expect(down.headers['retry-after']).toBeUndefined();
    expect(down.json()).toEqual({ error: 'upstream_unavailable', message: 'invoice-ninja is unavailable; retry later' });
  });

  it('a permanent one stays an internal error, its text kept out of the answer', async () => {
    const refused = await app.inject({ method: 'GET', url: '/refused' });
    expect(refused.statusCode).toBe(500);
    expect(refused.json()).toEqual({ error: 'internal_error', message: 'internal error' });
  });
});

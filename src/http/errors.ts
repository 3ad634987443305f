import { isGrpcServiceError } from '@temporalio/client';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { ExternalServiceError } from '../adapters/http/errors';
import { OperationError } from '../operations/context';
import { issueMessage } from '../operations/issueMessage';

// One error shape for the API: `{ error, message }`, plus `issues` naming each bad field of an invalid request.

export interface FieldIssue {
  field: string;
  message: string;
}

/** zod issues as `{field, message}`; the field is the dotted path inside the body, query or params ("numbers.0"). */
export function fieldIssues(error: z.ZodError, input: unknown): FieldIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return { field: issue.keys.map((k) => (path ? `${path}.${k}` : k)).join(', '), message: 'not a known field' };
    }
    return { field: path || '(whole value)', message: issueMessage(issue, input) };
  });
}

export class RequestValidationError extends Error {
  override readonly name = 'RequestValidationError';
  constructor(
    readonly part: 'body' | 'query' | 'params',
    readonly issues: FieldIssue[],
  ) {
    super(`invalid ${part}: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
  }
}

/** Parses one part of a request or throws RequestValidationError (answered 400 by the error handler). */
export function parseRequest<S extends z.ZodType>(schema: S, part: RequestValidationError['part'], value: unknown): z.output<S> {
  const input = value ?? (part === 'body' ? undefined : {});
  const result = schema.safeParse(input);
  if (!result.success) {
    const issues = fieldIssues(result.error, input).map((i) => (i.field === '(whole value)' ? { ...i, field: `(${part})` } : i));
    throw new RequestValidationError(part, issues);
  }
  return result.data;
}

const OPERATION_ERRORS: Record<OperationError['status'], string> = { 400: 'bad_request', 404: 'not_found', 409: 'conflict', 504: 'timeout' };
const GRPC_UNAVAILABLE = 14;

/** The API's error handler: caller mistakes keep their 4xx status and say what was wrong; anything else is logged and 5xx. */
export function apiErrorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof RequestValidationError) {
    return reply.code(400).send({ error: 'invalid_request', message: error.message, issues: error.issues });
  }
  if (error instanceof OperationError) {
    if (error.status === 504) request.log.warn({ err: error }, 'workflow did not answer in time');
    return reply.code(error.status).send({ error: OPERATION_ERRORS[error.status], message: error.message });
  }
  const status = (error as FastifyError).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own request errors: malformed JSON, body too large, unsupported media type.
    const code = (error as FastifyError).code;
    const slug = status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : 'invalid_request';
    const body: Record<string, unknown> = { error: slug, message: error.message, code };
    if (status === 400) body.issues = [{ field: '(body)', message: error.message }];
    return reply.code(status).send(body);
  }
  if (error instanceof ExternalServiceError && error.retryable) {
    // Business Central or the portal busy or down past our own retries: the caller's retry is the right answer (a
    // notification is delivered again), so say so instead of reporting a fault of ours.
    request.log.warn({ err: error }, 'upstream unavailable');
    if (error.retryAfterMs !== undefined) reply.header('retry-after', String(Math.ceil(error.retryAfterMs / 1000)));
    return reply.code(503).send({ error: 'upstream_unavailable', message: `${error.service} is unavailable; retry later` });
  }
  if (isGrpcServiceError(error) && error.code === GRPC_UNAVAILABLE) {
    request.log.error({ err: error }, 'Temporal unavailable');
    return reply.code(503).send({ error: 'temporal_unavailable', message: 'the workflow service is unavailable; retry later' });
  }
  request.log.error({ err: error }, 'request failed');
  return reply.code(500).send({ error: 'internal_error', message: 'internal error' });
}

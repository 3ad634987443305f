import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';

// Business Central's error body: {"error":{"code":"<Category>_<Reason>","message":"…  CorrelationId:  <guid>."}}.
// Thrown anywhere in the sandbox; the server's error handler renders it.
export class BcError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export const notFound = (what: string) => new BcError(404, 'BadRequest_NotFound', `The ${what} does not exist. Identification fields and values: ${what}`);
export const badRequest = (message: string) => new BcError(400, 'BadRequest', message);
/** Business logic refusals (posting errors, dialogs) — HTTP 400 with an Application_* code like real BC. */
export const dialog = (message: string) => new BcError(400, 'Application_DialogException', message);
export const fieldValidation = (message: string) => new BcError(400, 'Application_FieldValidationException', message);

export function bcErrorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message: `${message}  CorrelationId:  ${randomUUID()}.` } };
}

export function sendBcError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).header('content-type', 'application/json; charset=utf-8').send(bcErrorBody(code, message));
}

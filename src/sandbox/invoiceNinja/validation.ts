import { z } from 'zod';
import { invalid } from './apiHttp';
import { isDecimal } from './decimal';

// Request bodies are validated with zod and failures come back as Laravel's 422 body, keyed by the dotted field
// path the real server would name ("contacts.0.email", "invoices.1.amount").

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const errors: Record<string, string[]> = {};
  for (const issue of result.error.issues) {
    const key = issue.path.join('.') || 'body';
    (errors[key] ??= []).push(issue.message);
  }
  throw invalid(errors);
}

/** Text fields: Laravel accepts numbers there too; null clears. */
export const text = z
  .union([z.string(), z.number(), z.null()])
  .transform((v) => (v === null ? '' : String(v)))
  .optional();

/** Decimal numbers, as JSON numbers or numeric strings. */
export const decimal = z
  .union([z.number(), z.string(), z.null()])
  .refine((v) => v === null || isDecimal(v), 'must be a number')
  .transform((v) => (v === null ? '' : String(v).trim()))
  .optional();

export const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0']), z.literal(1), z.literal(0)])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 1)
  .optional();

export const ymd = z
  .union([z.string().regex(/^(\d{4}-\d{2}-\d{2})?$/, 'must be a date in Y-m-d format'), z.null()])
  .transform((v) => v ?? '')
  .optional();

export const hashedId = z.string().min(1, 'is required');

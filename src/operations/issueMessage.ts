import type { z } from 'zod';

// zod's message for a value outside a fixed set ("Invalid option: expected one of …") does not repeat the value; the
// API and the CLI add it, so the caller sees which of the values they sent was refused.

/** The issue's message, with the refused value when it was one of a fixed set and a short scalar. */
export function issueMessage(issue: z.core.$ZodIssue, input: unknown): string {
  if (issue.code !== 'invalid_value') return issue.message;
  const value = issue.path.reduce<unknown>((at, key) => (at !== null && typeof at === 'object' ? (at as Record<PropertyKey, unknown>)[key] : undefined), input);
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 100)) : typeof value === 'number' || typeof value === 'boolean' ? String(value) : null;
  return shown === null ? issue.message : `${issue.message}, got ${shown}`;
}

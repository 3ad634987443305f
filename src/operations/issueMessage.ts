import type { z } from 'zod';

// zod's message for a value outside a fixed set ("Invalid option: expected one of …") does not repeat the value; the
// API and the CLI add it, so the caller sees which of the values they sent was refused.

/** The value at an issue's path in what was parsed. */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let at = input;
  for (const key of path) at = at !== null && typeof at === 'object' ? (at as Record<PropertyKey, unknown>)[key] : undefined;
  return at;
}

/** The issue's message, with the refused value when it was one of a fixed set and a short scalar. */
export function issueMessage(issue: z.core.$ZodIssue, input: unknown): string {
  if (issue.code !== 'invalid_value') return issue.message;
  const value = valueAt(input, issue.path);
  if (typeof value === 'string') return `${issue.message}, got ${JSON.stringify(value.slice(0, 100))}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${issue.message}, got ${value}`;
  return issue.message;
}

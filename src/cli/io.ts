import type { z } from 'zod';
import { formatDecimal } from '../domain/money';
import { issueMessage } from '../operations/issueMessage';

// Argument validation and output for the operator commands: the same zod schemas as the API, with errors that name the
// command-line argument; `--json` for scripts, a readable table otherwise.

/** A bad command line: main exits 2 with this message. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Validates raw command-line values. `names` maps each input key to how the user typed it (`--by`, `<numbers...>`), so
 * the message says which argument was wrong.
 */
export function parseArgs<S extends z.ZodType>(schema: S, raw: Record<string, unknown>, names: Record<string, string>): z.output<S> {
  // Absent options are left out rather than set to undefined, so strict schemas only see what was typed.
  const input = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') return `${issue.keys.map((k) => names[k] ?? k).join(', ')}: not allowed here`;
    const [head, ...rest] = issue.path.map(String);
    const name = head === undefined ? 'arguments' : (names[head] ?? head);
    return `${rest.length ? `${name}[${rest.join('.')}]` : name}: ${issueMessage(issue, input)}`;
  });
  throw new UsageError(`invalid argument${lines.length > 1 ? "s" : ""} ${lines.join("; ")}`);
}

export interface OutputOptions {
  json?: boolean;
}

/** Prints JSON with --json, else the readable rendering. */
export function emit(value: unknown, opts: OutputOptions, render: () => string): void {
  process.stdout.write(opts.json ? `${JSON.stringify(value, null, 2)}\n` : `${render()}\n`);
}

const cell = (v: unknown): string => {
  if (v === null || v === undefined || v === '') return '-';
  if (Array.isArray(v)) return v.length ? v.map(cell).join(', ') : '-';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
};

/** A plain text table with a header row; `columns` is [key, header] in display order. */
export function table<T extends object>(rows: readonly T[], columns: ReadonlyArray<readonly [keyof T & string, string]>): string {
  if (rows.length === 0) return '(none)';
  const grid = [columns.map(([, h]) => h), ...rows.map((r) => columns.map(([k]) => cell(r[k])))];
  const widths = columns.map((_, i) => Math.max(...grid.map((line) => line[i].length)));
  return grid.map((line) => line.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

/** "label  value" lines for one record. */
export function record(fields: ReadonlyArray<readonly [string, unknown]>): string {
  const width = Math.max(...fields.map(([k]) => k.length));
  return fields.map(([k, v]) => `${k.padEnd(width)}  ${cell(v)}`).join('\n');
}

export function amount(minor: number | null | undefined, currency: string | null | undefined): string {
  if (minor === null || minor === undefined) return '-';
  return currency ? `${formatDecimal(minor, currency)} ${currency}` : `${minor} (minor units)`;
}

/** Commander collector for a repeatable option (`--channel email --channel sms`). */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

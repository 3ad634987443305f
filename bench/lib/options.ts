import type { Command } from 'commander';
import type { z } from 'zod';

/**
 * The command line of a bench script, parsed by `program` and validated by `schema`; on bad input every issue is
 * printed under its flag's name (`--max-delay-ms: …`) and the script exits 2 before it starts anything.
 */
export function optionsOrExit<S extends z.ZodType>(program: Command, schema: S, argv: string[]): z.output<S> {
  const parsed = schema.safeParse(program.parse(argv).opts());
  if (parsed.success) return parsed.data;
  for (const i of parsed.error.issues) console.error(`--${i.path.join('.').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${i.message}`);
  process.exit(2);
}

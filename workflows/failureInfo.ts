import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';

// Reading an activity's failure inside a workflow: the message finance sees and the type activities/failures.ts gave it.

export function failureMessage(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return String((cause as Error | undefined)?.message ?? (err as Error).message ?? err);
}

export function failureType(err: unknown): string | undefined {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? (err.cause.type ?? undefined) : undefined;
}

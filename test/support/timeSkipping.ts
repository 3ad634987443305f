import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporalTestServerPath } from '../../src/temporal/binaries';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/searchAttributes';
import { INDEXED } from '../../src/temporal/setup';

/**
 * The time-skipping test server (the project's installed binary) with our search attributes registered: the workflows
 * index their stage, and the test server, like a real cluster, needs the attributes first (one call takes them all).
 */
export async function startTimeSkipping(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: temporalTestServerPath() } } });
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTES.map((k) => [k.name, INDEXED[k.type]])),
  });
  return env;
}

/** Registers the suite's time-skipping environment: started before its tests (handed to `set`), torn down after. */
export function useTimeSkipping(set: (env: TestWorkflowEnvironment) => void): void {
  let env: TestWorkflowEnvironment | undefined;
  beforeAll(async () => {
    env = await startTimeSkipping();
    set(env);
  }, 60000);
  afterAll(async () => {
    await env?.teardown();
  });
}

import { MockActivityEnvironment } from '@temporalio/testing';
import { heartbeatWhileRunning } from '../../src/worker/heartbeats';

// The worker's heartbeat interceptor: an activity with a heartbeat timeout beats every quarter of it while it runs,
// starting a quarter in; short activities, local activities and activities without the timeout send nothing.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs an activity lasting `ms` under the interceptor; resolves with the heartbeats it sent, counted a while after.
 * On the test's own clock (fake timers), so a busy machine that delays real timers cannot change the count.
 */
async function beatsOf(info: { heartbeatTimeoutMs?: number; isLocal?: boolean }, ms: number): Promise<number> {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  try {
    const env = new MockActivityEnvironment(info, { interceptors: [heartbeatWhileRunning] });
    let beats = 0;
    env.on('heartbeat', () => beats++);
    const running = env.run(async (x: number) => {
      await sleep(ms);
      return x + 1;
    }, 41);
    await jest.advanceTimersByTimeAsync(ms);
    expect(await running).toBe(42);
    const atEnd = beats;
    await jest.advanceTimersByTimeAsync(600);
    expect(beats).toBe(atEnd); // nothing after the activity ended
    return beats;
  } finally {
    jest.useRealTimers();
  }
}

describe('heartbeatWhileRunning', () => {
  it('beats every quarter of the heartbeat timeout while a long activity runs', async () => {
    // 400 ms timeout: beats at 100, 200, 300, 400, 500 ms of a 550 ms activity.
    expect(await beatsOf({ heartbeatTimeoutMs: 400, isLocal: false }, 550)).toBe(5);
  });

  it('sends nothing for an activity done within a quarter of the timeout (a heartbeat is a billed action)', async () => {
    expect(await beatsOf({ heartbeatTimeoutMs: 2000, isLocal: false }, 100)).toBe(0);
  });

  it('sends nothing for a local activity or an activity without a heartbeat timeout', async () => {
    expect(await beatsOf({ heartbeatTimeoutMs: 200, isLocal: true }, 450)).toBe(0);
    expect(await beatsOf({ heartbeatTimeoutMs: undefined, isLocal: false }, 450)).toBe(0);
    expect(await beatsOf({ heartbeatTimeoutMs: 0, isLocal: false }, 450)).toBe(0);
  });
});

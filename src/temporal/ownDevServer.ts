import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../stack/ports';
import { temporalCliPath } from './binaries';
import { devServerArgs, waitForTemporal } from './devServer';

/** A Temporal dev server of a test run, bench or script of its own: in memory, on a free port, our search attributes. */
export interface OwnTemporal {
  address: string;
  child: ChildProcess;
  pid: number;
  stop(): Promise<void>;
}

const ATTEMPTS = 3;
const READY_MS = 60_000;

/**
 * Starts one, trying another port when it dies before it is ready: a port found free is released before the server
 * binds it, and the dev server picks free ports of its own for its internal services meanwhile, so now and then the
 * two meet ("address already in use") and the server exits.
 */
export async function startOwnTemporal(): Promise<OwnTemporal> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const port = await freePort();
    const child = spawn(temporalCliPath(), devServerArgs({ port }), { stdio: ['ignore', 'ignore', 'inherit'] });
    const address = `127.0.0.1:${port}`;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const stop = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    };
    try {
      await Promise.race([
        waitForTemporal(address, READY_MS),
        exited.then(() => {
          throw new Error(`the Temporal dev server on ${address} exited before it was ready (exit code ${child.exitCode})`);
        }),
      ]);
      return { address, child, pid: child.pid!, stop };
    } catch (err) {
      lastError = err;
      await stop();
    }
  }
  throw lastError;
}

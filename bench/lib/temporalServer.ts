import { spawn, type ChildProcess } from 'node:child_process';
import { temporalCliPath } from '../../src/temporal/binaries';
import { devServerArgs, waitForTemporal } from '../../src/temporal/devServer';
import { freePort } from '../../src/stack/ports';

/** A Temporal dev server of the bench's own: in memory, on a free port, with the project's search attributes. */
export interface OwnTemporal {
  address: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startOwnTemporal(): Promise<OwnTemporal> {
  const port = await freePort();
  const child: ChildProcess = spawn(temporalCliPath(), devServerArgs({ port }), { stdio: ['ignore', 'ignore', 'inherit'] });
  const address = `127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await Promise.race([
    waitForTemporal(address, 60_000),
    exited.then(() => {
      throw new Error(`the Temporal dev server exited before it was ready (exit code ${child.exitCode})`);
    }),
  ]);
  return {
    address,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

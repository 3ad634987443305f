import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';

const COLORS = [36, 33, 35, 32, 34, 31, 96, 93];

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

/** Children of `npm start`: output prefixed by name, all stopped together. */
export class ProcessGroup {
  private readonly procs: ManagedProcess[] = [];
  private stopping = false;
  private readonly width = 10;

  start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): ManagedProcess {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const color = COLORS[this.procs.length % COLORS.length];
    const prefix = `\x1b[${color}m${name.padEnd(this.width)}|\x1b[0m `;
    for (const stream of [child.stdout!, child.stderr!]) {
      readline.createInterface({ input: stream }).on('line', (line) => process.stdout.write(prefix + line + '\n'));
    }
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const proc = { name, child, exited };
    this.procs.push(proc);
    void exited.then((code) => {
      if (!this.stopping) process.stdout.write(`${prefix}exited with code ${code}\n`);
    });
    return proc;
  }

  /** SIGTERM in reverse start order (API before worker before server), SIGKILL after the grace period. */
  async stopAll(graceMs = 12000): Promise<void> {
    this.stopping = true;
    for (const p of [...this.procs].reverse()) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) continue;
      p.child.kill('SIGTERM');
      const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
      await p.exited;
      clearTimeout(timer);
    }
  }
}

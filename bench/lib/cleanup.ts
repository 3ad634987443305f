// Child processes (the Temporal server, worker processes) must not outlive an interrupted run: on SIGINT/SIGTERM the
// registered stops run, newest first, then the process exits.

const stops: Array<() => Promise<unknown> | unknown> = [];
let installed = false;

export function onInterrupt(stop: () => Promise<unknown> | unknown): void {
  stops.push(stop);
  if (installed) return;
  installed = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping child processes\n`);
      void (async () => {
        for (const s of stops.reverse()) await Promise.resolve().then(s).catch(() => undefined);
        process.exit(130);
      })();
    });
  }
}

import fs from 'node:fs';

// CPU time spent by the bench process (sandboxes, API and in-process worker share it) and the Temporal server, so a
// figure can say which of them was busy. Linux /proc; clock ticks are 100 per second on every common kernel.

const TICKS_PER_SECOND = 100;

function processCpuSeconds(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) : state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

export interface CpuMark {
  at: number;
  self: number;
  others: Record<string, number | null>;
}

export function cpuMark(others: Record<string, number>): CpuMark {
  const u = process.cpuUsage();
  return { at: Date.now(), self: (u.user + u.system) / 1e6, others: Object.fromEntries(Object.entries(others).map(([k, pid]) => [k, processCpuSeconds(pid)])) };
}

/** CPU seconds used since `mark` per process, and the wall time. */
export function cpuSince(mark: CpuMark, others: Record<string, number>): { wallSeconds: number; cpuSeconds: Record<string, number | null> } {
  const now = cpuMark(others);
  const cpuSeconds: Record<string, number | null> = { bench: round(now.self - mark.self) };
  for (const k of Object.keys(others)) {
    const a = mark.others[k];
    const b = now.others[k];
    cpuSeconds[k] = a === null || b === null || a === undefined || b === undefined ? null : round(b - a);
  }
  return { wallSeconds: round((now.at - mark.at) / 1000), cpuSeconds };
}

const round = (x: number) => Math.round(x * 10) / 10;

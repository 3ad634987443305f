// One figure of a bench run, printed beside its target. `pass` is null when the figure is informational or was not
// measured (skipped phase, or nothing to measure).

export interface Figure {
  key: string;
  label: string;
  value: number | null;
  unit: string;
  target: string;
  pass: boolean | null;
  note?: string;
}

export function figure(key: string, label: string, value: number | null, unit: string, target: string, check?: (v: number) => boolean, note?: string): Figure {
  return { key, label, value, unit, target, pass: value === null || !check ? null : check(value), note };
}

// Three significant digits below 1, so a ratio just under its target (0.798) does not print as the target (0.80).
const fmt = (v: number | null, unit: string) => {
  if (v === null) return 'n/a';
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : Math.abs(v) >= 1 ? 2 : 3;
  return `${v.toFixed(digits)} ${unit}`.trim();
};

/** A plain-text table: figure, value, target, verdict, note. */
export function table(figures: Figure[]): string {
  const rows = figures.map((f) => [f.label, fmt(f.value, f.unit), f.target, f.pass === null ? '-' : f.pass ? 'PASS' : 'FAIL', f.note ?? '']);
  const head = ['figure', 'measured', 'target', 'verdict', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

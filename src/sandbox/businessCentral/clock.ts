// Timestamps for SystemModifiedAt-like fields. Strictly increasing within the process so `lastModifiedDateTime gt X`
// watermarks never miss a change made in the same millisecond.
let last = 0;

export function nowIso(): string {
  let t = Date.now();
  if (t <= last) t = last + 1;
  last = t;
  return new Date(t).toISOString();
}

export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

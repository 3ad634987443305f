import axios from 'axios';

/** Polls a URL until it answers (2xx, or any HTTP status with `anyStatus`: the server is listening). */
export async function waitForHttp(url: string, opts: { timeoutMs?: number; anyStatus?: boolean } = {}): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30000);
  for (;;) {
    try {
      const res = await axios.get(url, { timeout: 1000, validateStatus: () => true });
      if (opts.anyStatus || (res.status >= 200 && res.status < 300)) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer in time`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

import axios from 'axios';

/** Polls a URL until it answers 2xx. */
export async function waitForHttp(url: string, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await axios.get(url, { timeout: 1000, validateStatus: () => true });
      if (res.status >= 200 && res.status < 300) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

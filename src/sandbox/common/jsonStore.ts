import fs from 'node:fs';
import path from 'node:path';

// Persistent state for the sandbox servers: the whole state object lives in memory and is written to one JSON file
// (write to a temp file, then rename) shortly after each change, so a restart finds it again. `file` undefined keeps
// the state in memory only (tests).
export class JsonStore<T extends object> {
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  readonly state: T;

  constructor(private readonly file: string | undefined, initial: () => T, private readonly flushDelayMs = 50) {
    this.state = file && fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as T) : initial();
  }

  /** Marks the state changed; it is flushed to disk within `flushDelayMs`. */
  touch(): void {
    if (!this.file) return;
    this.dirty = true;
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.flushDelayMs);
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.file || !this.dirty) return;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.state));
    fs.renameSync(tmp, this.file);
    this.dirty = false;
  }
}

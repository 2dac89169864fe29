// Lines to stdout in few writes: a tail at 1,000 signals/s or a publish of 100,000 lines would
// otherwise make one write (one syscall on a pipe) per line.
import type { Writable } from 'node:stream';

const FLUSH_BYTES = 64 * 1024;

export class LineWriter {
  private buffer = '';
  private scheduled = false;

  constructor(private readonly stream: Writable) {}

  line(text: string): void {
    this.buffer += `${text}\n`;
    if (this.buffer.length >= FLUSH_BYTES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.buffer === '') return;
    const chunk = this.buffer;
    this.buffer = '';
    this.stream.write(chunk);
  }

  /** Writes what is buffered and resolves once the stream took it (before the process exits). */
  async end(): Promise<void> {
    this.flush();
    if (!this.stream.writableNeedDrain) return;
    await new Promise<void>((resolve) => {
      this.stream.once('drain', resolve);
      this.stream.once('error', () => resolve()); // a closed pipe (e.g. `| head`) must not keep us waiting
    });
  }
}

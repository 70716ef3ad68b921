// Collects what a function prints with console.* during one invocation, keeping the last bytes.
import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';

/** Console output of one invocation; keeps at most `limitBytes` of the most recent text. */
export class LogTail {
  private chunks: string[] = [];
  private bytes = 0;
  private dropped = false;

  constructor(private readonly limitBytes: number) {}

  append(line: string): void {
    const text = line.endsWith('\n') ? line : `${line}\n`;
    this.chunks.push(text);
    this.bytes += Buffer.byteLength(text);
    while (this.bytes > this.limitBytes && this.chunks.length > 1) {
      this.bytes -= Buffer.byteLength(this.chunks.shift()!);
      this.dropped = true;
    }
  }

  /** The kept output; cut to the limit on a character boundary, marked when earlier output was dropped. */
  text(): string {
    let out = this.chunks.join('');
    if (Buffer.byteLength(out) > this.limitBytes) {
      const buf = Buffer.from(out);
      out = buf.subarray(buf.length - this.limitBytes).toString('utf8').replace(/^\uFFFD+/, '');
      this.dropped = true;
    }
    return this.dropped ? `[earlier output truncated]\n${out}` : out;
  }
}

interface Capture {
  tail: LogTail;
  invocationId: string;
}

const current = new AsyncLocalStorage<Capture>();

/** Runs fn with console output captured into tail (and still written to the process's own streams). */
export function withLogCapture<T>(tail: LogTail, invocationId: string, fn: () => T): T {
  return current.run({ tail, invocationId }, fn);
}

const METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

/** Patches console once so output made inside withLogCapture also lands in that invocation's tail. */
export function installConsoleCapture(): void {
  for (const method of METHODS) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      const capture = current.getStore();
      if (!capture) return original(...args);
      capture.tail.append(format(...args));
      original(`[${capture.invocationId}]`, ...args);
    };
  }
}

// Collects what a function prints during one invocation — console.*, process.stdout/stderr writes, and
// writes to descriptors 1 and 2 through node:fs (pino, sonic-boom and other loggers) — keeping the last bytes.
import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { format } from 'node:util';

/** Console output of one invocation; keeps at most `limitBytes` of the most recent text. */
export class LogTail {
  private chunks: string[] = [];
  private bytes = 0;
  private dropped = false;

  constructor(private readonly limitBytes: number) {}

  append(line: string): void {
    this.appendRaw(line.endsWith('\n') ? line : `${line}\n`);
  }

  /** As written, no newline added (stream writes carry their own). */
  appendRaw(text: string): void {
    if (text.length === 0) return;
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
      out = buf
        .subarray(buf.length - this.limitBytes)
        .toString('utf8')
        .replace(/^\uFFFD+/, '');
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

/** Set while console.* writes through the streams below, so its output is kept once. */
let inConsole = false;

/** The text of a chunk handed to a write: string, Buffer or other bytes. */
function textOf(chunk: unknown, encoding?: unknown): string {
  if (typeof chunk === 'string') return chunk;
  if (chunk instanceof Uint8Array)
    return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString(typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  return '';
}

function keep(chunk: unknown, encoding?: unknown): void {
  if (inConsole) return;
  current.getStore()?.tail.appendRaw(textOf(chunk, encoding));
}

/**
 * Patches console, process.stdout/stderr and node:fs writes to descriptors 1 and 2 once, so output made
 * inside withLogCapture also lands in that invocation's tail (it still goes to the container's own output).
 */
export function installConsoleCapture(): void {
  for (const method of METHODS) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      const capture = current.getStore();
      if (!capture) return original(...args);
      capture.tail.append(format(...args));
      inConsole = true;
      try {
        original(`[${capture.invocationId}]`, ...args);
      } finally {
        inConsole = false;
      }
    };
  }
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      keep(chunk, rest[0]);
      return write(chunk, ...rest);
    }) as typeof stream.write;
  }
  const writeSync = fs.writeSync;
  const write = fs.write;
  (fs as { writeSync: unknown }).writeSync = (fd: number, data: unknown, ...rest: unknown[]) => {
    if (fd === 1 || fd === 2) keep(data, typeof rest[0] === 'string' ? rest[0] : rest[1]);
    return (writeSync as (...args: unknown[]) => number)(fd, data, ...rest);
  };
  (fs as { write: unknown }).write = (fd: number, data: unknown, ...rest: unknown[]) => {
    if (fd === 1 || fd === 2) keep(data, typeof rest[0] === 'string' ? rest[0] : rest[1]);
    return (write as (...args: unknown[]) => void)(fd, data, ...rest);
  };
  // ESM importers of node:fs see the patched functions too.
  syncBuiltinESMExports();
}

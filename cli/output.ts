// What the CLI prints: check marks, tables and sizes, in the spirit of wrangler and faas-cli.
import Table from 'cli-table3';
import pc from 'picocolors';

export const ok = (text: string) => process.stdout.write(`${pc.green('✔')} ${text}\n`);
export const info = (text: string) => process.stderr.write(`${pc.dim('›')} ${text}\n`);
export const fail = (text: string, hint?: string) => process.stderr.write(`${pc.red('✖')} ${text}\n${hint ? `  ${pc.dim(hint)}\n` : ''}`);

export function table(head: string[], rows: Array<Array<string | number>>): string {
  const t = new Table({ head: head.map((h) => pc.bold(h)), style: { head: [], border: [] } });
  for (const row of rows) t.push(row.map(String));
  return t.toString();
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function formatMs(ms: number): string {
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 60_000) return `${ms / 1_000} s`;
  return `${ms / 60_000} min`;
}

/** A duration as its largest unit or two: 850 ms, 12 s, 3 min 20 s, 2 h 5 min. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))} ms`;
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
}

export const formatUsd = (usd: number) => `$${usd < 0.01 && usd > 0 ? usd.toPrecision(3) : usd.toFixed(2)}`;

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Text a function wrote, safe to print on a terminal: control characters other than newline and tab (escape
 * sequences that clear the screen, set the title or add links; a carriage return that overwrites a line to forge
 * an entry) are shown as `\xNN` instead of acted on.
 */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

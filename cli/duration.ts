// Pure: "500ms", "30s", "10m", "1h" or a bare number of milliseconds → milliseconds.
const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

export function parseDurationMs(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(text);
  if (!match) throw new Error(`"${text}" is not a duration: use e.g. 500ms, 30s, 10m, 1h or a number of milliseconds`);
  return Math.round(Number(match[1]) * UNITS[(match[2] ?? 'ms').toLowerCase()]!);
}

// The benchmark's Markdown table: platform vs baseline, ratio or difference, target, verdict.
export interface Row {
  measure: string;
  platform: string;
  baseline: string;
  comparison: string;
  target: string;
  pass: boolean | undefined;
}

/** A step that failed, as a row of the table (the bench goes on to its next step). */
export function failedRow(measure: string, err: unknown): Row {
  const message = err instanceof Error ? err.message : String(err);
  return { measure, platform: 'failed', baseline: '—', comparison: message.replace(/\s+/g, ' ').slice(0, 160), target: '—', pass: false };
}

/** Runs a step; a failure becomes its failed row instead of ending the run. */
export async function step(measure: string, run: () => Promise<Row[]>, log: (msg: string) => void = () => {}): Promise<Row[]> {
  try {
    return await run();
  } catch (err) {
    log(`${measure}: failed: ${err instanceof Error ? err.message : String(err)}`);
    return [failedRow(measure, err)];
  }
}

export function renderTable(header: string, rows: readonly Row[]): string {
  const lines = [
    header,
    '',
    '| measure | platform | baseline | ratio / difference | target | |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) => `| ${r.measure} | ${r.platform} | ${r.baseline} | ${r.comparison} | ${r.target} | ${r.pass === undefined ? '' : r.pass ? 'pass' : 'MISS'} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

export const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 1)} ms`;
export const rps = (value: number) => `${Math.round(value).toLocaleString('en-US')} req/s`;

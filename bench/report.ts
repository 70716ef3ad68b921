// The benchmark's Markdown table: platform vs baseline, ratio or difference, target, verdict.
export interface Row {
  measure: string;
  platform: string;
  baseline: string;
  comparison: string;
  target: string;
  pass: boolean | undefined;
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

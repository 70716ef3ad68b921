// The dev loop's speed (BENCH_ONLY=dev, and in the full run): `faas dev` on a small function, a save, and the
// time until the new code answers at the function's URL — the user's whole wait (watch, bundle, deploy, the
// new version's cold start). The baseline is the platform part alone in the same run: a deploy through the API
// of code already bundled, then the first call of the new version.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import type { PlatformProcess } from './platform-process.js';
import { ms, type Row } from './report.js';
import { median } from './stats.js';

const SAVES = 15;
const source = (n: number) => `export default () => new Response('version ${n}');\n`;
const log = (msg: string) => process.stderr.write(`› ${msg}\n`);

async function waitForBody(url: string, body: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(url).catch(() => undefined);
    if (res && (await res.text()) === body) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer "${body}" within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export async function devLoopBench(platform: PlatformProcess): Promise<Row[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'faas-bench-dev-'));
  // Beside the repository's node_modules, where its external packages resolve.
  const cli = path.resolve('node_modules/.cache/faas-bench/faas.mjs');
  await build({ entryPoints: ['cli/main.ts'], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: cli, logLevel: 'error' });
  const file = path.join(dir, 'devloop.ts');
  writeFileSync(file, source(0));
  const url = `${platform.url}/fn/devloop`;
  log(`faas dev: ${SAVES} saves of a small function, each timed until its new code answers`);
  const dev = spawn(process.execPath, [path.resolve(cli), 'dev', file], {
    env: { ...process.env, FAAS_URL: platform.url, FAAS_TOKEN: platform.token, NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errors = '';
  dev.stderr!.on('data', (d: Buffer) => (errors = (errors + d.toString()).slice(-2_000)));
  const saves: number[] = [];
  const direct: number[] = [];
  try {
    await waitForBody(url, 'version 0', 60_000);
    for (let n = 1; n <= SAVES; n++) {
      await new Promise((r) => setTimeout(r, 300));
      const started = performance.now();
      writeFileSync(file, source(n));
      await waitForBody(url, `version ${n}`);
      saves.push(performance.now() - started);
    }
    log('baseline: a deploy of bundled code through the API, then the first call');
    for (let n = 1; n <= SAVES; n++) {
      await new Promise((r) => setTimeout(r, 300));
      const started = performance.now();
      const res = await fetch(`${platform.url}/api/v1/functions/devbase`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${platform.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ code: source(n) }),
      });
      if (!res.ok) throw new Error(`deploy: ${res.status} ${await res.text()}`);
      await waitForBody(`${platform.url}/fn/devbase`, `version ${n}`);
      direct.push(performance.now() - started);
    }
  } catch (err) {
    return [
      {
        measure: 'faas dev: save → new code answering',
        platform: 'failed',
        baseline: '—',
        comparison: (err as Error).message.slice(0, 80),
        target: '< 300 ms',
        pass: false,
      },
    ];
  } finally {
    dev.kill('SIGINT');
    rmSync(dir, { recursive: true, force: true });
  }
  const p50 = median(saves);
  return [
    {
      measure: `faas dev: save → new code answering (p50 of ${SAVES}; watch, bundle, deploy, cold start)`,
      platform: ms(p50),
      baseline: ms(median(direct)),
      comparison: `+${ms(p50 - median(direct))} over an API deploy + first call`,
      target: '< 300 ms',
      pass: p50 < 300,
    },
  ];
}

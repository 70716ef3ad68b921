// Vitest global setup: with FAAS_TEST_CPU_LOAD=N, N busy-looping processes compete with the suite for the CPU for
// the whole run, so `FAAS_TEST_CPU_LOAD=4 npm test` shows whether the tests hold on a loaded machine (see README, Tests).
import { spawn, type ChildProcess } from 'node:child_process';

/** Each hog ends on its own after this long even if vitest dies without tearing down (default 2 h). */
const DEFAULT_BOUND_S = 7_200;

const HOG = `const end = Date.now() + Number(process.argv[1]) * 1000; let x = 0; while (Date.now() < end) x = (x + 1) % 1e9;`;

export default function setup(): () => void {
  const count = Number(process.env.FAAS_TEST_CPU_LOAD ?? 0);
  if (!Number.isInteger(count) || count < 0 || count > 64) {
    throw new Error(`FAAS_TEST_CPU_LOAD must be a whole number of busy processes from 0 to 64 (got ${process.env.FAAS_TEST_CPU_LOAD})`);
  }
  if (count === 0) return () => {};
  const boundS = Number(process.env.FAAS_TEST_CPU_LOAD_SECONDS ?? DEFAULT_BOUND_S);
  const hogs: ChildProcess[] = Array.from({ length: count }, () => spawn(process.execPath, ['-e', HOG, String(boundS)], { stdio: 'ignore' }));
  console.log(`cpu-load: ${count} busy processes for at most ${boundS} s (pids ${hogs.map((h) => h.pid).join(' ')})`);
  return () => {
    for (const hog of hogs) hog.kill('SIGKILL');
  };
}

// Work a function leaves running after it answers (a timer, a loop) must not run on between calls, unbilled,
// even while calls keep coming: a container with no call in flight is frozen at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, uniqueName, type TestPlatform } from '../support/platform.js';

let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(async () => {
  await platform?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('background work between calls', () => {
  it('does not run between calls that keep coming 40 ms apart', async () => {
    const name = uniqueName('bg');
    // Counts 2 ms timer ticks, and burns CPU in them as a miner would.
    const code = `let ticks = 0;
setInterval(() => { ticks++; const t = Date.now(); while (Date.now() - t < 1); }, 2);
export default () => new Response(String(ticks));`;
    expect((await platform.deploy(name, code)).status).toBe(201);
    await platform.call(name);
    const seen: number[] = [];
    for (let i = 0; i < 25; i++) {
      seen.push(Number(await (await platform.call(name)).text()));
      await sleep(40);
    }
    const gaps = seen
      .slice(1)
      .map((n, i) => n - seen[i]!)
      .sort((a, b) => a - b);
    const median = gaps[Math.floor(gaps.length / 2)]!;
    // Running between calls, the timer would tick about 15 times in each 40 ms gap.
    expect(median, `ticks between consecutive calls: ${gaps.join(',')}`).toBeLessThanOrEqual(4);
  });
});

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
    // Burns CPU in a 2 ms timer as a miner would, and answers the longest stretch since the last call in which the
    // timer did not run: about 2 ms if it ran on between calls, about the 40 ms wait if the container was frozen.
    // (Told by time, not by ticks: on a busy machine a call itself takes long enough for many ticks.)
    const code = `let last = Date.now();
let longest = 0;
setInterval(() => { const now = Date.now(); longest = Math.max(longest, now - last); last = now; while (Date.now() - now < 1); }, 2);
export default () => { const gap = Math.max(longest, Date.now() - last); longest = 0; return new Response(String(gap)); };`;
    expect((await platform.deploy(name, code)).status).toBe(201);
    await platform.call(name);
    const gaps: number[] = [];
    for (let i = 0; i < 25; i++) {
      await sleep(40);
      gaps.push(Number(await (await platform.call(name)).text()));
    }
    gaps.sort((a, b) => a - b);
    const median = gaps[Math.floor(gaps.length / 2)]!;
    expect(median, `longest stretch without a tick between consecutive calls, ms: ${gaps.join(',')}`).toBeGreaterThanOrEqual(30);
  });
});

// Measured usage (real containers, real cgroups): CPU time and peak memory per call for containers that
// run one request at a time, whole-life figures and kept-warm idle time per container otherwise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, uniqueName, waitUntil, type TestPlatform } from '../support/platform.js';

let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform();
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

/**
 * Burns CPU for about `ms` and holds `mb` of memory while it does; answers the CPU time its own process used
 * in the call (x-cpu-ms), which the cgroup's figure must match, however much CPU a loaded machine gave it.
 */
const burner = `export default (req) => {
  const q = new URL(req.url).searchParams;
  const started = process.cpuUsage();
  const hold = Buffer.alloc(Number(q.get('mb') ?? 0) * 1024 * 1024, 1);
  const until = performance.now() + Number(q.get('ms') ?? 0);
  let x = 0;
  while (performance.now() < until) x += Math.sqrt(x + hold.length);
  const used = process.cpuUsage(started);
  return new Response(String(x > 0), { headers: { 'x-cpu-ms': String((used.user + used.system) / 1000) } });
};`;

const usageOf = async (fn: string) => (await platform.api('GET', `/api/v1/usage?function=${fn}`)).body;

describe('measured usage', () => {
  it('records the CPU time and peak memory of each call from the cgroup when a container runs one call at a time', async () => {
    const fn = uniqueName('burn');
    expect((await platform.deploy(fn, burner, { memoryMb: 256 })).status).toBe(201);
    expect((await platform.call(fn, '?ms=10')).status).toBe(200); // cold start: includes the runtime's start
    const before = await waitUntil('the first record', async () => {
      const u = await usageOf(fn);
      return u.total.invocations === 1 ? u.total : undefined;
    });
    const second = await platform.call(fn, '?ms=300&mb=80');
    expect(second.status).toBe(200);
    const ownCpuSeconds = Number(second.headers.get('x-cpu-ms')) / 1000;
    const after = await waitUntil('the second record', async () => {
      const u = await usageOf(fn);
      return u.total.invocations === 2 ? u.total : undefined;
    });
    const cpuOfSecond = after.cpuSeconds - before.cpuSeconds;
    // What the function's own process counted, plus the runtime's own work around the call (a few ms; up
    // to 100 ms of slack for a loaded machine) — not the 300 ms of wall time, which a busy machine shares out.
    expect(ownCpuSeconds).toBeGreaterThan(0.01);
    expect(cpuOfSecond).toBeGreaterThanOrEqual(ownCpuSeconds * 0.95);
    expect(cpuOfSecond).toBeLessThan(ownCpuSeconds + 0.1);
    // 80 MB held during the call.
    expect(after.peakMemoryMb).toBeGreaterThan(80);
    expect(after.peakMemoryMb).toBeLessThan(256);

    const logs = await platform.api('GET', `/api/v1/functions/${fn}/logs?limit=1`);
    expect(logs.status).toBe(200);
  });

  it('records a container life when it goes: idle time kept warm by minScale is billed, CPU over its whole life', async () => {
    const fn = uniqueName('warm');
    expect((await platform.deploy(fn, burner, { memoryMb: 512, minScale: 1, concurrency: 4 })).status).toBe(201);
    expect((await platform.call(fn, '?ms=200')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await platform.api('DELETE', `/api/v1/functions/${fn}`)).status).toBe(204);
    const total = await waitUntil('the container record', async () => {
      const u = await usageOf(fn);
      return u.total.idleGbSeconds > 0 ? u.total : undefined;
    });
    // Idle for about a second at 0.5 GB: about 0.5 GB-s, billed as kept warm.
    expect(total.idleGbSeconds).toBeGreaterThan(0.3);
    expect(total.idleGbSeconds).toBeLessThan(5);
    // The call's CPU is in the container's whole-life figure (concurrency 4: not measured per call); 200 ms of
    // busy loop gets less than 0.2 CPU-s on a busy machine, and an idle container uses next to none.
    expect(total.cpuSeconds).toBeGreaterThan(0.05);
    expect(total.invocations).toBe(1);
  });

  it("bills a prewarmed runtime's first call from its assignment on, not the runtime's boot", async () => {
    const prewarmed = async () =>
      Number(
        /faas_containers\{state="prewarmed"\} (\d+)/.exec(
          await (await fetch(`${platform.url}/metrics`, { headers: { authorization: `Bearer ${platform.token}` } })).text(),
        )?.[1] ?? 0,
      );
    await waitUntil('a prewarmed runtime', async () => ((await prewarmed()) >= 1 ? true : undefined), 60_000);
    const fn = uniqueName('stem');
    expect((await platform.deploy(fn, `export default () => 'hi';`)).status).toBe(201);
    const first = await platform.call(fn);
    expect(first.headers.get('x-faas-cold-start')).toBe('true');
    const total = await waitUntil('the record', async () => {
      const u = await usageOf(fn);
      return u.total.invocations === 1 ? u.total : undefined;
    });
    // Loading a one-line module and answering takes a few ms of CPU; the runtime's boot (about 0.3-0.5 CPU-s
    // here) was the platform's and used to be billed to this first call.
    expect(total.cpuSeconds).toBeLessThan(0.15);
  });

  it("shows a cold start's init CPU apart from its call's, both billed as CPU", async () => {
    const fn = uniqueName('heavyinit');
    // A fixed amount of work at module load (not a time: a loaded machine gives it less CPU per second).
    const code = `let x = 0; for (let i = 0; i < 300_000_000; i++) x = (x + i) % 7919; export default () => String(x);`;
    expect((await platform.deploy(fn, code)).status).toBe(201);
    expect((await platform.call(fn)).headers.get('x-faas-cold-start')).toBe('true');
    const first = await waitUntil('the first record', async () => {
      const u = await usageOf(fn);
      return u.total.invocations === 1 ? u.total : undefined;
    });
    expect(first.initCpuSeconds).toBeGreaterThan(0.1);
    // The call itself returns a ready string: its CPU is a small part of the init's (was all of it, one figure).
    expect(first.cpuSeconds).toBeLessThan(first.initCpuSeconds / 3);
    expect((await platform.call(fn)).headers.get('x-faas-cold-start')).toBe('false');
    const second = await waitUntil('the second record', async () => {
      const u = await usageOf(fn);
      return u.total.invocations === 2 ? u.total : undefined;
    });
    expect(second.initCpuSeconds).toBe(first.initCpuSeconds);
  });

  it('records and bills module init that never finishes (init_timeout), in usage and in the logs', async () => {
    const fn = uniqueName('spin');
    expect((await platform.deploy(fn, `const until = Date.now() + 120_000; while (Date.now() < until); export default () => 'never';`)).status).toBe(201);
    const res = await platform.call(fn);
    expect(res.status).toBe(504);
    expect(((await res.json()) as any).error.code).toBe('FUNCTION_INIT_TIMEOUT');
    const total = await waitUntil('the init_timeout record', async () => {
      const u = await usageOf(fn);
      return u.total.invocations === 1 ? u.total : undefined;
    });
    // The 15 s start timeout of a 128 MB function, spent spinning (used to be free: no record at all).
    expect(total.errors).toBe(1);
    expect(total.initGbSeconds).toBeGreaterThan(0.125 * 10);
    expect(total.initCpuSeconds).toBeGreaterThan(1);
    expect(total.cpuSeconds).toBe(0);
    const logs = await platform.api('GET', `/api/v1/functions/${fn}/logs?limit=1`);
    expect(logs.body.logs[0]).toMatchObject({ status: 'init_timeout' });
    expect(logs.body.logs[0].logs).toContain('did not finish loading');
  }, 120_000);
});

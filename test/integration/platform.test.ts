// End to end: the whole platform (gateway + in-process invoker + Redis + Docker) driven over HTTP as a user would.
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, uniqueName, waitUntil, type TestPlatform } from '../support/platform.js';
import { FUNCTION_NETWORK } from '../../invoker/driver/docker/function-network.js';
import { CgroupLimits } from '../../invoker/driver/docker/cgroup-limits.js';
import { readFileSync } from 'node:fs';

const cgroups = new CgroupLimits();

const docker = new Docker({ socketPath: '/var/run/docker.sock' });
let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform({ FAAS_MAX_QUEUE: '3', FAAS_MAX_QUEUE_WAIT_MS: '4000' });
});
afterAll(async () => {
  await platform?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A function whose answer names the container instance that served it, after an optional delay. */
const INSTANCE = `
const instance = crypto.randomUUID();
export default async (req) => {
  const ms = Number(new URL(req.url).searchParams.get('ms') ?? 0);
  if (ms) await new Promise((r) => setTimeout(r, ms));
  return new Response(instance);
};`;

/**
 * A function whose calls wait (up to 20 s) until `?n=` of them are in flight in the same container, then answer
 * `<instance> <peak in flight>`: concurrency shown by what overlapped, not by how long it took.
 */
const MEETS = `
const instance = crypto.randomUUID();
let inFlight = 0;
let peak = 0;
export default async (req) => {
  const n = Number(new URL(req.url).searchParams.get('n') ?? 1);
  inFlight++;
  peak = Math.max(peak, inFlight);
  const until = Date.now() + 20_000;
  while (inFlight < n && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  const seen = peak;
  await new Promise((r) => setTimeout(r, 20));
  inFlight--;
  return new Response(instance + ' ' + seen);
};`;

/**
 * The function's containers as the engine names them. A prewarmed runtime given to the function is renamed
 * shortly after its first call, so this waits until every container the platform lists for it has its name.
 */
async function containersOf(name: string) {
  return waitUntil(`the engine to name every container of ${name}`, async () => {
    const named = await docker.listContainers({ all: true, filters: { name: [`^/faas-${name}-[0-9a-f]{12}$`] } });
    const listed = (await platform.api('GET', '/api/v1/containers/list')).body.containers as Array<{ id: string; name: string | null; state: string }>;
    const live = listed.filter((c) => c.name === name && c.state !== 'removing');
    return live.every((c) => named.some((n) => n.Names[0] === `/faas-${name}-${c.id}`)) ? named : undefined;
  });
}

async function deployOk(name: string, code: string, settings: Record<string, unknown> = {}): Promise<any> {
  const res = await platform.deploy(name, code, settings);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

describe('deploy and invoke', () => {
  it('deploys a web-standard function and answers at its URL, cold then warm', async () => {
    const name = uniqueName('hello');
    const body = await deployOk(name, `export default async (req) => new Response('hello ' + new URL(req.url).searchParams.get('name'));`);
    expect(body.url).toBe(`${platform.config.publicUrl}/fn/${name}`);
    expect(body.function).toMatchObject({ name, version: 1, memoryMb: 128, timeoutMs: 30_000 });

    const first = await platform.call(name, '?name=ada');
    expect(first.status).toBe(200);
    expect(await first.text()).toBe('hello ada');
    expect(first.headers.get('x-faas-cold-start')).toBe('true');

    const second = await platform.call(name, '?name=bob');
    expect(await second.text()).toBe('hello bob');
    expect(second.headers.get('x-faas-cold-start')).toBe('false');
  });

  it('passes method, sub-path, query, headers and body to a { fetch } handler', async () => {
    const name = uniqueName('echo');
    await deployOk(
      name,
      `export default { async fetch(req) {
        const url = new URL(req.url);
        return Response.json({ method: req.method, path: url.pathname, query: url.search, header: req.headers.get('x-test'), body: await req.text() });
      } };`,
    );
    const res = await platform.call(name, '/a/b?x=1&y=2', { method: 'POST', headers: { 'x-test': 'yes' }, body: 'payload' });
    expect(res.status).toBe(200);
    expect((await res.json()) as any).toEqual({ method: 'POST', path: '/a/b', query: '?x=1&y=2', header: 'yes', body: 'payload' });
  });

  it('runs a Lambda-style handler with an HTTP API 2.0 event, status, headers and several cookies', async () => {
    const name = uniqueName('lambda');
    await deployOk(
      name,
      `export const handler = async (event, context) => ({
        statusCode: 201,
        headers: { 'x-kind': 'lambda' },
        cookies: ['a=1; Path=/', 'b=2; Path=/'],
        body: JSON.stringify({
          rawPath: event.rawPath, rawQueryString: event.rawQueryString, q: event.queryStringParameters,
          method: event.requestContext.http.method, body: event.body, isBase64Encoded: event.isBase64Encoded,
          requestId: context.awsRequestId, remaining: context.getRemainingTimeInMillis() > 0,
        }),
      });`,
    );
    const res = await platform.call(name, '/items/7?color=red', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"n":1}' });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-kind')).toBe('lambda');
    // Under /fn a function's cookies are pinned to its own prefix (the origin is shared with other functions).
    expect(res.headers.getSetCookie()).toEqual([`a=1; Path=/fn/${name}`, `b=2; Path=/fn/${name}`]);
    const event = (await res.json()) as any;
    expect(event).toMatchObject({
      rawPath: '/items/7',
      rawQueryString: 'color=red',
      q: { color: 'red' },
      method: 'PUT',
      body: '{"n":1}',
      isBase64Encoded: false,
      remaining: true,
    });
    expect(event.requestId).toBe(res.headers.get('x-faas-invocation-id'));
  });

  it('round-trips a binary body byte for byte', async () => {
    const name = uniqueName('binary');
    await deployOk(name, `export default async (req) => new Response(await req.arrayBuffer(), { headers: { 'content-type': 'application/octet-stream' } });`);
    const payload = randomBytes(256 * 1024);
    const res = await platform.call(name, '', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: payload });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(payload)).toBe(true);
  });

  it('answers 404 with a JSON error for an unknown function', async () => {
    const res = await platform.call(uniqueName('missing'));
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.code).toBe('FUNCTION_NOT_FOUND');
  });
});

describe('container pool', () => {
  it('reuses the warm container for the next call', async () => {
    const name = uniqueName('warm');
    await deployOk(name, INSTANCE);
    const a = await (await platform.call(name)).text();
    const b = await platform.call(name);
    expect(await b.text()).toBe(a);
    expect(b.headers.get('x-faas-cold-start')).toBe('false');
    expect(await containersOf(name)).toHaveLength(1);
  });

  it('queues requests FIFO when the function is at maxScale with concurrency 1', async () => {
    const name = uniqueName('queue');
    await deployOk(name, INSTANCE, { concurrency: 1, maxScale: 1 });
    await platform.call(name); // warm it
    const started = Date.now();
    const answers = await Promise.all([0, 1, 2].map(() => platform.call(name, '?ms=300').then((r) => r.text())));
    expect(new Set(answers).size).toBe(1); // one container served all three, one after another
    expect(Date.now() - started).toBeGreaterThanOrEqual(850);
  });

  it('serves several requests at once in one container when concurrency allows', async () => {
    const name = uniqueName('conc');
    await deployOk(name, MEETS, { concurrency: 4, maxScale: 1 });
    await platform.call(name);
    const answers = await Promise.all([0, 1, 2, 3].map(() => platform.call(name, '?n=4').then((r) => r.text())));
    expect(new Set(answers).size).toBe(1); // one container
    expect(answers[0]!.split(' ')[1]).toBe('4'); // all four were in it at once
  });

  it('pauses an idle container so its background work stops between calls, and resumes it for the next calls', async () => {
    const name = uniqueName('pause');
    // Counts 10 ms ticks of a timer that runs whether or not a call is in progress.
    await deployOk(name, `let ticks = 0; setInterval(() => ticks++, 10); export default () => new Response(String(ticks));`, { concurrency: 4, maxScale: 1 });
    const before = Number(await (await platform.call(name)).text());
    // Paused as soon as no call is in flight (FAAS_PAUSE_AFTER_MS 0); running, it would tick about 150 times in 1.5 s.
    await waitUntil('the idle container to be paused', async () =>
      (await platform.api('GET', '/api/v1/containers')).body.containers.paused >= 1 ? true : undefined,
    );
    await sleep(1_500);
    const answers = await Promise.all([0, 1, 2, 3].map(() => platform.call(name).then(async (r) => ({ status: r.status, ticks: Number(await r.text()) }))));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    for (const a of answers) expect(a.ticks - before).toBeLessThan(45);
    expect(await containersOf(name)).toHaveLength(1);
  });

  it('scales out to maxScale containers for parallel requests', async () => {
    const name = uniqueName('scale');
    await deployOk(name, INSTANCE, { concurrency: 1, maxScale: 3 });
    // Each call holds its container until the slowest of the three (a fresh, not prewarmed, one) is surely ready:
    // several times a fresh start measured now, since the engine's start time varies by the hour.
    const probe = uniqueName('probe');
    await deployOk(probe, INSTANCE, { network: true }); // never a prewarmed runtime
    const probeStarted = Date.now();
    expect((await platform.call(probe)).status).toBe(200);
    const holdMs = Math.max(2_500, 4 * (Date.now() - probeStarted));
    const answers = await Promise.all([0, 1, 2].map(() => platform.call(name, `?ms=${holdMs}`).then((r) => r.text())));
    expect(new Set(answers).size).toBe(3);
    expect(await containersOf(name)).toHaveLength(3);
  });

  it('answers 429 when the queue is full and 503 when a queued request waits too long', async () => {
    const name = uniqueName('full');
    await deployOk(name, INSTANCE, { concurrency: 1, maxScale: 1 });
    await platform.call(name);
    // One runs for 6 s; the queue holds 3 (FAAS_MAX_QUEUE) which wait past 4 s (FAAS_MAX_QUEUE_WAIT_MS); the rest are refused.
    const calls = [platform.call(name, '?ms=6000')];
    await waitUntil('the long call to be running', async () =>
      (await platform.api('GET', '/api/v1/containers')).body.containers.busy >= 1 ? true : undefined,
    );
    for (let i = 0; i < 5; i++) calls.push(platform.call(name));
    const responses = await Promise.all(calls);
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 429, 429, 503, 503, 503]);
    const refused = responses.find((r) => r.status === 429)!;
    expect(((await refused.json()) as any).error.code).toBe('TOO_MANY_REQUESTS');
    const timedOut = responses.find((r) => r.status === 503)!;
    expect(((await timedOut.json()) as any).error.code).toBe('QUEUE_TIMEOUT');
  });

  it('scales to zero after the idle timeout and cold-starts the next call', async () => {
    const name = uniqueName('idle');
    await deployOk(name, INSTANCE, { idleTimeoutMs: 1_000 });
    const first = await platform.call(name);
    expect(first.headers.get('x-faas-cold-start')).toBe('true');
    await waitUntil('the idle container to be removed', async () => ((await containersOf(name)).length === 0 ? true : undefined), 60_000, 200);
    const after = await platform.call(name);
    expect(after.status).toBe(200);
    expect(after.headers.get('x-faas-cold-start')).toBe('true');
  });

  it('keeps minScale containers warm before any call', async () => {
    const name = uniqueName('minscale');
    await deployOk(name, INSTANCE, { minScale: 2, idleTimeoutMs: 1_000 });
    await waitUntil('two minScale containers', async () => ((await containersOf(name)).length >= 2 ? true : undefined), 60_000, 200);
    await sleep(2_000); // past the idle timeout: minScale containers stay
    expect(await containersOf(name)).toHaveLength(2);
    const res = await platform.call(name);
    expect(res.headers.get('x-faas-cold-start')).toBe('false');
  });

  it('serves requests that arrive while idle containers are being removed', async () => {
    const name = uniqueName('race');
    await deployOk(name, INSTANCE, { idleTimeoutMs: 1_000, maxScale: 2 });
    await platform.call(name);
    await sleep(900);
    const statuses: number[] = [];
    const until = Date.now() + 1_500;
    while (Date.now() < until) {
      statuses.push((await platform.call(name)).status);
      await sleep(15);
    }
    expect(statuses.every((s) => s === 200)).toBe(true);
  });

  it('serves a call on a fresh container when its warm container was removed behind its back', async () => {
    const name = uniqueName('gone');
    await deployOk(name, INSTANCE);
    const before = await (await platform.call(name)).text();
    const [summary] = await containersOf(name);
    await docker.getContainer(summary!.Id).remove({ force: true });
    const res = await platform.call(name);
    expect(res.status).toBe(200);
    expect(await res.text()).not.toBe(before);
  });

  it('lets in-flight requests to the old version finish across a redeploy', async () => {
    const name = uniqueName('redeploy');
    const version = (v: string) =>
      `export default async (req) => { const ms = Number(new URL(req.url).searchParams.get('ms') ?? 0); await new Promise((r) => setTimeout(r, ms)); return new Response('${v}'); };`;
    await deployOk(name, version('v1'));
    await platform.call(name);
    const inFlight = platform.call(name, '?ms=1500');
    await sleep(200);
    const redeployed = await platform.deploy(name, version('v2'));
    expect(redeployed.status).toBe(200);
    expect(redeployed.body.function.version).toBe(2);
    const next = await platform.call(name);
    expect(await next.text()).toBe('v2');
    const old = await inFlight;
    expect(old.status).toBe(200);
    expect(await old.text()).toBe('v1');
  });
});

describe('prewarmed containers', () => {
  const prewarmedCount = async () =>
    Number(
      /faas_containers\{state="prewarmed"\} (\d+)/.exec(
        await (await fetch(`${platform.url}/metrics`, { headers: { authorization: `Bearer ${platform.token}` } })).text(),
      )?.[1] ?? -1,
    );
  const waitForPrewarmed = async (n: number) => {
    const deadline = Date.now() + 15_000;
    while ((await prewarmedCount()) !== n && Date.now() < deadline) await sleep(100);
    return prewarmedCount();
  };

  it('serves a cold start from a prewarmed container, then refills the prewarmed pool', async () => {
    expect(await waitForPrewarmed(platform.config.prewarmCount)).toBe(2);
    const name = uniqueName('stem');
    await deployOk(name, `export default () => 'from a stem cell: ' + process.env.WHO;`, { env: { WHO: 'me' }, memoryMb: 256 });
    const res = await platform.call(name);
    expect(res.headers.get('x-faas-cold-start')).toBe('true');
    expect(await res.text()).toBe('from a stem cell: me');
    const [summary] = await containersOf(name);
    expect(summary!.Labels['faas.prewarm']).toBe('true');
    // Set through the cgroup on assignment (the engine keeps reporting the prewarmed runtime's limits).
    expect(cgroups.get(summary!.Id)).toEqual({ memoryMb: 256, cpus: 1 });
    expect(readFileSync(`/sys/fs/cgroup/memory/docker/${summary!.Id}/memory.memsw.limit_in_bytes`, 'utf8').trim()).toBe(String(256 * 1024 * 1024));
    expect(await waitForPrewarmed(2)).toBe(2);
  });

  it("gives a function with outbound network a fresh container on the platform's firewalled network", async () => {
    const name = uniqueName('net');
    await deployOk(name, `export default () => 'networked';`, { network: true });
    const res = await platform.call(name);
    expect(await res.text()).toBe('networked');
    const [summary] = await containersOf(name);
    expect(summary!.Labels['faas.prewarm']).toBeUndefined();
    expect((await docker.getContainer(summary!.Id).inspect()).HostConfig.NetworkMode).toBe(FUNCTION_NETWORK);
  });
});

describe('limits and isolation', () => {
  it('applies the function limits and the security settings to its container', async () => {
    const name = uniqueName('limits');
    await deployOk(
      name,
      `import { writeFileSync } from 'node:fs';
      export default async () => {
        let rootWritable = true; try { writeFileSync('/x', 'x'); } catch { rootWritable = false; }
        writeFileSync('/tmp/x', 'x');
        let network = true; try { await fetch('http://1.1.1.1', { signal: AbortSignal.timeout(500) }); } catch { network = false; }
        return Response.json({ uid: process.getuid(), rootWritable, network, secret: process.env.FAAS_TOKEN ?? null, mine: process.env.GREETING });
      };`,
      { memoryMb: 96, cpus: 0.5, env: { GREETING: 'hi' } },
    );
    const res = await platform.call(name);
    expect((await res.json()) as any).toEqual({ uid: 65534, rootWritable: false, network: false, secret: null, mine: 'hi' });

    const [summary] = await containersOf(name);
    const info = await docker.getContainer(summary!.Id).inspect();
    expect(info.Config.User).toBe('65534:65534');
    // In force: from the cgroup (a prewarmed runtime assigned to it gets them there, not through the engine).
    expect(cgroups.get(summary!.Id)).toEqual({ memoryMb: 96, cpus: 0.5 });
    expect(info.HostConfig).toMatchObject({
      PidsLimit: platform.config.pidsLimit,
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      NetworkMode: 'none',
      Privileged: false,
    });
    expect(info.HostConfig.SecurityOpt).toContain('no-new-privileges');
    // The only writable places: /tmp, and the secrets' own tmpfs (both in memory).
    expect(Object.keys(info.HostConfig.Tmpfs ?? {}).sort()).toEqual(['/run/secrets', '/tmp']);
    expect(info.Mounts.some((m) => m.Source.includes('docker.sock'))).toBe(false);
  });

  it('enforces the pids limit: a function cannot fork past it', async () => {
    const name = uniqueName('pids');
    await deployOk(
      name,
      `import { spawn } from 'node:child_process';
      export default async () => {
        const children = [];
        let refused = null;
        for (let i = 0; i < 400 && !refused; i++) {
          try {
            const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)'], { stdio: 'ignore' });
            child.on('error', (e) => { refused ??= e.code; });
            children.push(child);
          } catch (e) { refused = e.code; }
          await new Promise((r) => setImmediate(r));
        }
        await new Promise((r) => setTimeout(r, 200));
        for (const c of children) c.kill('SIGKILL');
        return { refused, spawned: children.length };
      };`,
      // Memory to spare, so the pids limit is what stops it; children only sleep.
      { memoryMb: 4096, timeoutMs: 20_000 },
    );
    const res = await platform.call(name);
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.refused).toBe('EAGAIN');
    expect(body.spawned).toBeLessThanOrEqual(platform.config.pidsLimit);
  });

  it('reports an out-of-memory kill as such, and the next call works', async () => {
    const name = uniqueName('oom');
    await deployOk(
      name,
      `const keep = [];
      export default (req) => {
        if (new URL(req.url).searchParams.has('eat')) for (;;) keep.push(Buffer.alloc(8 * 1024 * 1024, 1));
        return new Response('fine');
      };`,
      { memoryMb: 64 },
    );
    const res = await platform.call(name, '?eat');
    expect(res.status).toBe(502);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe('FUNCTION_OUT_OF_MEMORY');
    expect(body.error.message).toContain('64 MB');
    const next = await platform.call(name);
    expect(next.status).toBe(200);
    expect(await next.text()).toBe('fine');
  });

  it('answers 504 when the function times out, replaces the container, and the next call works', async () => {
    const name = uniqueName('timeout');
    await deployOk(name, `export default (req) => { if (new URL(req.url).searchParams.has('spin')) for (;;) {} return new Response('quick'); };`, {
      timeoutMs: 1_000,
    });
    expect((await platform.call(name)).status).toBe(200); // warm: the timeout counts the call, not the cold start
    const started = Date.now();
    const res = await platform.call(name, '?spin');
    expect(res.status).toBe(504);
    expect(((await res.json()) as any).error.code).toBe('FUNCTION_TIMEOUT');
    // Not before its timeout; that it ends at all (the function never would) is the test's own time limit.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    const next = await platform.call(name);
    expect(next.status).toBe(200);
    expect(await next.text()).toBe('quick');
  });

  it('reports a crash at module load, and a throw in the handler, with their messages', async () => {
    const atLoad = uniqueName('initfail');
    await deployOk(atLoad, `throw new Error('boom at load'); export default () => new Response('never');`);
    const res = await platform.call(atLoad);
    expect(res.status).toBe(502);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe('FUNCTION_INIT_FAILED');
    expect(body.error.message).toContain('boom at load');

    const inHandler = uniqueName('throws');
    await deployOk(inHandler, `export default () => { throw new Error('boom in handler'); };`);
    const res2 = await platform.call(inHandler);
    expect(res2.status).toBe(500);
    const body2 = (await res2.json()) as any;
    expect(body2.error.code).toBe('FUNCTION_ERROR');
    expect(body2.error.message).toContain('boom in handler');

    const healthy = uniqueName('healthy');
    await deployOk(healthy, `export default () => 'still fine';`);
    expect(await (await platform.call(healthy)).text()).toBe('still fine');
  });
});

describe('logs, metrics and usage', () => {
  it('keeps the console output of recent invocations', async () => {
    const name = uniqueName('logs');
    await deployOk(name, `export default (req) => { console.log('hello from', new URL(req.url).searchParams.get('n')); return 'ok'; };`);
    await platform.call(name, '?n=1');
    await platform.call(name, '?n=2');
    await sleep(200);
    const res = await platform.api('GET', `/api/v1/functions/${name}/logs`);
    expect(res.status).toBe(200);
    expect(res.body.logs).toHaveLength(2);
    expect(res.body.logs[0].logs).toContain('hello from 2');
    expect(res.body.logs[1].logs).toContain('hello from 1');
  });

  it('exposes invocation counters on /metrics', async () => {
    const name = uniqueName('metrics');
    await deployOk(name, `export default () => 'ok';`);
    await platform.call(name);
    await platform.call(name);
    const text = await (await fetch(`${platform.url}/metrics`, { headers: { authorization: `Bearer ${platform.token}` } })).text();
    expect(text).toMatch(new RegExp(`faas_invocations_total\\{[^}]*function="${name}"[^}]*start="cold"[^}]*\\} 1`));
    expect(text).toMatch(new RegExp(`faas_invocations_total\\{[^}]*function="${name}"[^}]*start="warm"[^}]*\\} 1`));
    expect(text).toContain('faas_containers');
  });

  it('removes at start the containers an earlier run of this invoker left behind', async () => {
    const images = await docker.listImages({ filters: { reference: ['faas-runtime-node'] } });
    const leftover = await docker.createContainer({
      Image: images[0]!.RepoTags![0]!,
      Labels: { 'faas.managed': 'true', 'faas.owner': platform.config.invokerId, 'faas.function': 'ghost' },
    });
    const other = await docker.createContainer({
      Image: images[0]!.RepoTags![0]!,
      Labels: { 'faas.managed': 'true', 'faas.owner': 'another-invoker', 'faas.function': 'ghost' },
    });
    try {
      await platform.restart();
      const gone = await docker
        .getContainer(leftover.id)
        .inspect()
        .then(
          () => false,
          () => true,
        );
      expect(gone).toBe(true);
      // Another invoker's containers are not this one's to remove.
      expect((await other.inspect()).Id).toBe(other.id);
    } finally {
      await other.remove({ force: true });
      await leftover.remove({ force: true }).catch(() => {});
    }
  });

  it('meters every invocation, and the usage totals survive a restart of the platform and of Redis', async () => {
    const name = uniqueName('usage');
    await deployOk(name, `export default () => 'ok';`, { memoryMb: 256 });
    for (let i = 0; i < 5; i++) expect((await platform.call(name)).status).toBe(200);
    await sleep(200);
    const before = await platform.api('GET', `/api/v1/usage?function=${name}`);
    expect(before.status).toBe(200);
    expect(before.body.rows).toHaveLength(1);
    const totals = before.body.rows[0];
    expect(totals).toMatchObject({ function: name, tenant: 'default', invocations: 5, errors: 0, coldStarts: 1 });
    // 256 MB × at least 5 ms of billed time, and the init time of the one cold start beside it.
    expect(totals.gbSeconds).toBeGreaterThanOrEqual(0.25 * 0.005);
    expect(totals.initGbSeconds).toBeGreaterThan(0);
    expect(totals.durationMs.p50).toBeGreaterThan(0);

    await platform.restart({ redisToo: true });
    const after = await platform.api('GET', `/api/v1/usage?function=${name}`);
    expect(after.body.rows).toEqual(before.body.rows);
    // And the function is still deployed and answers.
    expect((await platform.call(name)).status).toBe(200);
  });
});

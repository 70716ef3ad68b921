// npm run bench: cold start, warm latency and throughput of the platform against baselines measured in the same run.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { Client } from 'undici';
import { ensureRuntimeImage } from '../runtime-images/node/build-image.js';
import { startDirect, type DirectContainer } from './direct-container.js';
import { NOOP, deploy, remove, sequential, throughput, timedCall, waitGone, waitPrewarmed, type Throughput } from './measure.js';
import { startNginx } from './nginx.js';
import { streamBench } from './streaming.js';
import { startPlatformProcess, type PlatformProcess } from './platform-process.js';
import { asyncBench } from './async.js';
import { scaleBench } from './scale.js';
import { devLoopBench } from './dev-loop.js';
import { ms, renderTable, rps, step, type Row } from './report.js';
import { median, percentile } from './stats.js';

const COLD_RUNS = 10;
const SCALE_TO_ZERO_RUNS = 5;
const WARM_CALLS = 2_000;
const LATENCY_ROUNDS = 4;
// Enough calls for V8 to optimize both paths (gateway, runtime) before measuring: steady state.
const WARMUP_CALLS = 3_000;
const CONNECTIONS = 32;
const THROUGHPUT_SECONDS = 3;
const THROUGHPUT_ROUNDS = 5;
const PAUSED_CALLS = 20;
/** Long after the container was paused (at once, by default): a call after a quiet spell. */
const PAUSED_GAP_MS = 600;

const log = (msg: string) => process.stderr.write(`› ${msg}\n`);

/** Prewarmed runtimes the bench's platform keeps (FAAS_PREWARM, default 2). */
const PREWARM_COUNT = Number(process.env.FAAS_PREWARM ?? 2);
/** After the last prewarmed runtime is ready, the engine goes on finishing its start (runc, the shim) for ~0.7 s. */
const ENGINE_SETTLE_MS = 1_000;

/**
 * COLD_RUNS deploys of new functions, each timed to its first answer. 'prewarmed': each on a quiet host (every
 * prewarmed runtime ready, the engine settled); 'back to back': as soon as one is prewarmed, while the
 * replacement of the one the previous run took is still being created by the engine beside it.
 */
async function coldRuns(
  docker: Docker,
  platform: PlatformProcess,
  label: 'fresh' | 'prewarmed' | 'back to back',
): Promise<{ firstCall: number[]; deployToAnswer: number[] }> {
  log(`cold start: ${COLD_RUNS} deploys and first calls through the gateway (${label})`);
  const client = new Client(platform.url, { pipelining: 1 });
  const firstCall: number[] = [];
  const deployToAnswer: number[] = [];
  // Containers stay (default idle timeout) until all runs are done, so no removal competes with a
  // measured start in the engine, as none does in the baseline.
  const names: string[] = [];
  try {
    for (let i = 0; i < COLD_RUNS; i++) {
      if (label === 'prewarmed') {
        await waitPrewarmed(platform, PREWARM_COUNT, 15_000);
        await new Promise((resolve) => setTimeout(resolve, ENGINE_SETTLE_MS));
      }
      if (label === 'back to back') await waitPrewarmed(platform, 1, 15_000);
      const name = `bench-${label.replaceAll(' ', '-')}-${i}-${Date.now()}`;
      names.push(name);
      const started = performance.now();
      await deploy(platform, name);
      firstCall.push(await timedCall(client, `/fn/${name}`, true));
      deployToAnswer.push(performance.now() - started);
    }
    for (const name of names) await remove(platform, name);
    for (const name of names) await waitGone(docker, name, 15_000);
  } finally {
    await client.close();
  }
  return { firstCall, deployToAnswer };
}

/** Warm latency and throughput of a no-op function with one container, against the container called directly. */
async function warmBench(docker: Docker, image: string, platform: PlatformProcess, gateway: Client, cleanups: Array<() => Promise<void>>): Promise<Row[]> {
  const out: Row[] = [];
  log('warm latency and throughput: a no-op function with one container');
  await deploy(platform, 'bench-noop', { concurrency: CONNECTIONS, maxScale: 1 });
  await timedCall(gateway, '/fn/bench-noop');
  const direct: DirectContainer = await startDirect(docker, image, NOOP);
  cleanups.push(() => direct.remove());
  const directClient = new Client('http://localhost', { socketPath: direct.socketPath, pipelining: 1 });
  cleanups.push(() => directClient.close());

  // nginx in front of the same container: what any proxy's second hop costs on this machine (two more wake-ups).
  const nginx = await startNginx(direct.socketPath);
  cleanups.push(() => nginx.stop());
  const nginxClient = new Client(nginx.url, { pipelining: 1 });
  cleanups.push(() => nginxClient.close());

  await sequential(gateway, '/fn/bench-noop', WARMUP_CALLS, 0);
  await sequential(directClient, '/', WARMUP_CALLS, 0);
  await sequential(nginxClient, '/', WARMUP_CALLS, 0);
  // Alternating rounds, so a drift in the machine's speed falls on both sides alike.
  const viaGateway: number[] = [];
  const viaSocket: number[] = [];
  const viaNginx: number[] = [];
  for (let round = 0; round < LATENCY_ROUNDS; round++) {
    viaGateway.push(...(await sequential(gateway, '/fn/bench-noop', 0, WARM_CALLS / LATENCY_ROUNDS)));
    viaSocket.push(...(await sequential(directClient, '/', 0, WARM_CALLS / LATENCY_ROUNDS)));
    viaNginx.push(...(await sequential(nginxClient, '/', 0, WARM_CALLS / LATENCY_ROUNDS)));
  }
  const gP50 = median(viaGateway);
  const dP50 = median(viaSocket);
  const nP50 = median(viaNginx);
  out.push(
    {
      measure: `warm latency p50 (${WARM_CALLS} sequential, ${LATENCY_ROUNDS} alternating rounds)`,
      platform: ms(gP50),
      baseline: ms(dP50),
      comparison: `+${(gP50 - dP50).toFixed(2)} ms`,
      target: '≤ +0.5 ms',
      pass: gP50 - dP50 <= 0.5,
    },
    {
      measure: 'warm latency p50 through nginx in front of the same container (the second hop of any proxy here), same rounds',
      platform: ms(nP50),
      baseline: ms(dP50),
      comparison: `+${(nP50 - dP50).toFixed(2)} ms (the gateway: +${(gP50 - nP50).toFixed(2)} ms over nginx)`,
      target: '—',
      pass: undefined,
    },
    {
      measure: `warm latency p99 (${WARM_CALLS} sequential, ${LATENCY_ROUNDS} alternating rounds)`,
      platform: ms(percentile(viaGateway, 99)),
      baseline: ms(percentile(viaSocket, 99)),
      comparison: `+${(percentile(viaGateway, 99) - percentile(viaSocket, 99)).toFixed(2)} ms`,
      target: '—',
      pass: undefined,
    },
  );

  // Three ways to the same no-op runtime, alternating (the machine's speed drifts): directly over its
  // socket, through nginx (the reference proxy), through the gateway. Each pair compared within a round.
  const runs = { direct: [] as Throughput[], nginx: [] as Throughput[], gateway: [] as Throughput[] };
  for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
    runs.direct.push(await throughput({ url: 'http://localhost/', socketPath: direct.socketPath }, CONNECTIONS, THROUGHPUT_SECONDS));
    runs.nginx.push(await throughput({ url: `${nginx.url}/` }, CONNECTIONS, THROUGHPUT_SECONDS));
    runs.gateway.push(await throughput({ url: `${platform.url}/fn/bench-noop` }, CONNECTIONS, THROUGHPUT_SECONDS));
  }
  const med = (list: Throughput[], key: keyof Throughput) => median(list.map((t) => t[key]));
  const vsNginx = runs.gateway.map((g, i) => g.requestsPerSecond / runs.nginx[i]!.requestsPerSecond);
  const vsDirect = runs.gateway.map((g, i) => g.requestsPerSecond / runs.direct[i]!.requestsPerSecond);
  const errors = runs.gateway.reduce((n, t) => n + t.errors, 0);
  const load = `${CONNECTIONS} connections, ${THROUGHPUT_ROUNDS} alternating rounds of ${THROUGHPUT_SECONDS} s, medians`;
  out.push(
    {
      measure: `throughput, no-op, gateway vs nginx (${load})`,
      platform: rps(med(runs.gateway, 'requestsPerSecond')) + (errors ? ` (${errors} errors)` : ''),
      baseline: rps(med(runs.nginx, 'requestsPerSecond')),
      comparison: `${median(vsNginx).toFixed(2)}× (rounds: ${vsNginx.map((r) => r.toFixed(2)).join(', ')})`,
      target: '≥ 0.7×',
      pass: median(vsNginx) >= 0.7,
    },
    {
      measure: `throughput, no-op, gateway vs direct (${load})`,
      platform: rps(med(runs.gateway, 'requestsPerSecond')),
      baseline: rps(med(runs.direct, 'requestsPerSecond')),
      comparison: `${median(vsDirect).toFixed(2)}× (nginx vs direct: ${(med(runs.nginx, 'requestsPerSecond') / med(runs.direct, 'requestsPerSecond')).toFixed(2)}×)`,
      target: '—',
      pass: undefined,
    },
    {
      measure: 'latency under that load p50, gateway vs nginx (direct)',
      platform: ms(med(runs.gateway, 'p50Ms')),
      baseline: `${ms(med(runs.nginx, 'p50Ms'))} (${ms(med(runs.direct, 'p50Ms'))})`,
      comparison: `+${(med(runs.gateway, 'p50Ms') - med(runs.nginx, 'p50Ms')).toFixed(2)} ms`,
      target: '≤ +0.3 ms',
      pass: med(runs.gateway, 'p50Ms') - med(runs.nginx, 'p50Ms') <= 0.3,
    },
    {
      measure: 'latency under that load p99, gateway vs nginx (direct)',
      platform: ms(med(runs.gateway, 'p99Ms')),
      baseline: `${ms(med(runs.nginx, 'p99Ms'))} (${ms(med(runs.direct, 'p99Ms'))})`,
      comparison: `${(med(runs.gateway, 'p99Ms') / med(runs.nginx, 'p99Ms')).toFixed(2)}×`,
      target: '≤ 1.5×',
      pass: med(runs.gateway, 'p99Ms') / med(runs.nginx, 'p99Ms') <= 1.5,
    },
  );

  // A call to a container paused while idle: the platform thaws its cgroup; the baseline is the same
  // container paused and resumed through the engine (docker pause / unpause), then called directly.
  log(`calls to a paused container: ${PAUSED_CALLS} calls ${PAUSED_GAP_MS} ms apart, against docker unpause + direct call`);
  const engine = docker.getContainer(direct.id);
  const pausedCalls: number[] = [];
  const unpauseCalls: number[] = [];
  for (let i = 0; i < PAUSED_CALLS; i++) {
    await new Promise((r) => setTimeout(r, PAUSED_GAP_MS));
    pausedCalls.push(await timedCall(gateway, '/fn/bench-noop'));
    await engine.pause();
    const started = performance.now();
    await engine.unpause();
    await timedCall(directClient, '/');
    unpauseCalls.push(performance.now() - started);
  }
  const pausedP50 = median(pausedCalls);
  out.push({
    measure: `warm call to a paused container (p50 of ${PAUSED_CALLS}, ${PAUSED_GAP_MS} ms apart): resume + call`,
    platform: ms(pausedP50),
    baseline: ms(median(unpauseCalls)),
    comparison: `${(pausedP50 / median(unpauseCalls)).toFixed(2)}× (running warm: ${ms(gP50)})`,
    target: '—',
    pass: undefined,
  });
  return out;
}

async function main(): Promise<void> {
  const docker = new Docker();
  await docker.ping().catch(() => {
    throw new Error('no Docker engine answers at /var/run/docker.sock: run `bash cli/setup-host.sh` as root');
  });
  const image = await ensureRuntimeImage(docker, { onProgress: log });
  const cleanups: Array<() => Promise<void>> = [];
  const rows: Row[] = [];
  try {
    if (process.env.BENCH_ONLY === 'async') {
      // For working on the async path: only its part of the benchmark.
      const platform = await startPlatformProcess();
      cleanups.push(() => platform.stop());
      rows.push(...(await asyncBench(docker, image, platform)));
      return void process.stdout.write(`\n${renderTable('async only (BENCH_ONLY=async)', rows)}`);
    }
    if (process.env.BENCH_ONLY === 'scale') {
      // 10,000 functions on one platform: connections, memory, another tenant's async latency.
      const platform = await startPlatformProcess();
      cleanups.push(() => platform.stop());
      rows.push(...(await scaleBench(platform)));
      return void process.stdout.write(`\n${renderTable('scale only (BENCH_ONLY=scale)', rows)}`);
    }
    if (process.env.BENCH_ONLY === 'long') {
      // Opt-in: does the gateway's memory stay flat under a long load? (BENCH_LONG_MINUTES, default 10)
      const minutes = Number(process.env.BENCH_LONG_MINUTES ?? 10);
      const platform = await startPlatformProcess();
      cleanups.push(() => platform.stop());
      await deploy(platform, 'bench-noop', { concurrency: CONNECTIONS, maxScale: 1 });
      await throughput({ url: `${platform.url}/fn/bench-noop` }, CONNECTIONS, 5);
      const before = platform.rssBytes();
      log(`long load: ${minutes} min of ${CONNECTIONS} connections through the gateway`);
      const run = await throughput({ url: `${platform.url}/fn/bench-noop` }, CONNECTIONS, minutes * 60);
      const after = platform.rssBytes();
      const change = (after - before) / before;
      rows.push({
        measure: `gateway RSS before and after ${minutes} min of load (${rps(run.requestsPerSecond)}, ${run.errors} errors)`,
        platform: `${Math.round(before / 2 ** 20)} MB → ${Math.round(after / 2 ** 20)} MB`,
        baseline: '—',
        comparison: `${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)} %`,
        target: '±10 %',
        pass: Math.abs(change) <= 0.1,
      });
      return void process.stdout.write(`\n${renderTable('long run (BENCH_ONLY=long)', rows)}`);
    }
    if (process.env.BENCH_ONLY === 'dev') {
      const platform = await startPlatformProcess();
      cleanups.push(() => platform.stop());
      rows.push(...(await devLoopBench(platform)));
      return void process.stdout.write(`\n${renderTable('dev loop only (BENCH_ONLY=dev)', rows)}`);
    }
    if (process.env.BENCH_ONLY === 'stream') {
      const platform = await startPlatformProcess();
      cleanups.push(() => platform.stop());
      rows.push(...(await streamBench(docker, image, platform, log)));
      return void process.stdout.write(`\n${renderTable('streaming only (BENCH_ONLY=stream)', rows)}`);
    }
    if (process.env.BENCH_ONLY === 'warm') {
      // For working on the hot path: warm latency and throughput only.
      const platform = await startPlatformProcess();
      cleanups.push(() => platform.stop());
      const gateway = new Client(platform.url, { pipelining: 1 });
      cleanups.push(() => gateway.close());
      rows.push(...(await warmBench(docker, image, platform, gateway, cleanups)));
      return void process.stdout.write(`\n${renderTable('warm only (BENCH_ONLY=warm)', rows)}`);
    }
    log(`cold start: ${COLD_RUNS} bare containers (create + start + first answer)`);
    const bare: number[] = [];
    for (let i = 0; i < COLD_RUNS; i++) {
      const direct = await startDirect(docker, image, NOOP);
      bare.push(direct.coldMs);
      await direct.remove();
    }
    const bareP50 = median(bare);
    const cold = (measure: string, samples: number[], target: boolean): Row => ({
      measure,
      platform: ms(median(samples)),
      baseline: ms(bareP50),
      comparison: `${(median(samples) / bareP50).toFixed(2)}×`,
      target: target ? '≤ 1.2×' : '—',
      pass: target ? median(samples) / bareP50 <= 1.2 : undefined,
    });

    rows.push(
      ...(await step(
        'cold start, fresh container (FAAS_PREWARM=0)',
        async () => {
          log('starting the platform with prewarming off (FAAS_PREWARM=0)');
          const fresh = await startPlatformProcess({ FAAS_PREWARM: '0' });
          cleanups.push(() => fresh.stop());
          const freshCalls = await coldRuns(docker, fresh, 'fresh');
          await fresh.stop();
          return [cold('cold start, fresh container (FAAS_PREWARM=0): first call after deploy (p50)', freshCalls.firstCall, true)];
        },
        log,
      )),
    );

    log('starting the platform in its own process');
    const platform: PlatformProcess = await startPlatformProcess();
    cleanups.push(() => platform.stop());
    const gateway = new Client(platform.url, { pipelining: 1 });
    cleanups.push(() => gateway.close());
    rows.push(
      ...(await step(
        'cold start, prewarmed runtime',
        async () => {
          const prewarmed = await coldRuns(docker, platform, 'prewarmed');
          const backToBack = await coldRuns(docker, platform, 'back to back');
          log(`cold start after scale to zero: ${SCALE_TO_ZERO_RUNS} functions`);
          const names = Array.from({ length: SCALE_TO_ZERO_RUNS }, (_, i) => `bench-zero-${i}-${Date.now()}`);
          for (const name of names) {
            await deploy(platform, name, { idleTimeoutMs: 1_000 });
            await timedCall(gateway, `/fn/${name}`);
          }
          for (const name of names) await waitGone(docker, name, 15_000);
          const afterZero: number[] = [];
          for (const name of names) {
            await waitPrewarmed(platform, 1, 15_000);
            afterZero.push(await timedCall(gateway, `/fn/${name}`, true));
          }
          return [
            {
              ...cold(
                `cold start, prewarmed runtime (default): first call after deploy (p50; every prewarmed runtime ready, engine settled ${ENGINE_SETTLE_MS / 1000} s)`,
                prewarmed.firstCall,
                false,
              ),
              target: '≤ 15 ms',
              pass: median(prewarmed.firstCall) <= 15,
            },
            cold('cold start, prewarmed runtime: deploy → first answer (p50)', prewarmed.deployToAnswer, false),
            cold(
              'cold start, prewarmed runtime, back to back: first call after deploy while the engine creates the replacement of the previous one (p50)',
              backToBack.firstCall,
              false,
            ),
            cold('cold start, prewarmed runtime: first call after scale to zero (p50)', afterZero, true),
          ];
        },
        log,
      )),
    );

    // Each step on its own: a failure is its failed row, and the run goes on to the next.
    rows.push(...(await step('warm latency and throughput', () => warmBench(docker, image, platform, gateway, cleanups), log)));
    rows.push(...(await step('streaming', () => streamBench(docker, image, platform, log), log)));
    rows.push(...(await step('async', () => asyncBench(docker, image, platform), log)));
    rows.push(...(await step('dev loop', () => devLoopBench(platform), log)));
    await platform.stop();
    rows.push(
      ...(await step(
        'scale',
        async () => {
          log('starting a fresh platform for the scale step');
          const scaled = await startPlatformProcess();
          cleanups.push(() => scaled.stop());
          return scaleBench(scaled);
        },
        log,
      )),
    );
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  }

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const header = `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, Docker ${(await docker.version()).Version}. Baselines: a bare dockerode create + start + first answer of the same image with the same limits; the same container called directly over its unix socket, and through Debian's nginx (one worker, keep-alive upstream to that socket).`;
  const table = renderTable(header, rows);
  process.stdout.write(`\n${table}`);
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'latest.md'), table);
}

main().catch((err) => {
  process.stderr.write(`✖ benchmark failed: ${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});

// Streamed answers: time to the first byte and streamed MB/s, the same function called directly and through
// the gateway (and, for MB/s, through nginx in front of the direct container: what one proxy hop costs
// here); the gateway's memory while 8 callers each stream 500 MB.
import type Docker from 'dockerode';
import { Client, Pool } from 'undici';
import { startDirect } from './direct-container.js';
import { deploy } from './measure.js';
import { startNginx } from './nginx.js';
import type { PlatformProcess } from './platform-process.js';
import { failedRow, ms, type Row } from './report.js';
import { median } from './stats.js';

/** `?mb=N` streams N MiB in 64 KiB chunks; the first chunk goes at once, the rest as the caller reads. */
const STREAMER = `
const chunk = new Uint8Array(64 * 1024).fill(120);
export default (req) => {
  const total = Number(new URL(req.url).searchParams.get('mb') ?? 1) * 16;
  let sent = 0;
  return new Response(new ReadableStream({
    async pull(c) {
      if (sent === 1) await new Promise((r) => setImmediate(r));
      if (sent++ < total) c.enqueue(chunk); else c.close();
    },
  }), { headers: { 'content-type': 'application/octet-stream' } });
};`;

const TTFB_CALLS = 100;
/**
 * Calls of each side before the time to first byte is measured, as the warm latency's 3,000: a runtime's
 * per-call time falls ~5× over its first ~2,000 calls as V8 optimises it (the direct container's too), so
 * measured after 20 calls the gap mostly compares two young processes, not the gateway's own cost.
 */
const TTFB_WARMUP_CALLS = 2_000;
const MB_ROUNDS = 5;
const STREAM_MB = 100;

/** Time to the first body byte, and to the last, of one streamed call. */
async function timedStream(client: Client | Pool, path: string): Promise<{ firstMs: number; totalMs: number; bytes: number }> {
  const started = performance.now();
  const res = await client.request({ path, method: 'GET' });
  let firstMs = 0;
  let bytes = 0;
  for await (const chunk of res.body) {
    if (bytes === 0) firstMs = performance.now() - started;
    bytes += (chunk as Buffer).length;
  }
  if (res.statusCode !== 200) throw new Error(`${path} answered ${res.statusCode}`);
  return { firstMs, totalMs: performance.now() - started, bytes };
}

export async function streamBench(docker: Docker, image: string, platform: PlatformProcess, log: (msg: string) => void): Promise<Row[]> {
  log('streaming: time to first byte and MB/s, direct vs gateway');
  // A timeout that fits 8 concurrent 500 MB streams on a loaded 2-core machine (the default 30 s does not).
  await deploy(platform, 'bench-stream', { code: STREAMER, concurrency: 8, maxScale: 1, memoryMb: 256, timeoutMs: 600_000 });
  const direct = await startDirect(docker, image, STREAMER);
  const directClient = new Client('http://localhost', { socketPath: direct.socketPath });
  const gateway = new Pool(platform.url, { connections: 8 });
  let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
  let nginxClient: Client | undefined;
  try {
    nginx = await startNginx(direct.socketPath);
    nginxClient = new Client(nginx.url);
    for (let i = 0; i < 20; i++) {
      await timedStream(gateway, '/fn/bench-stream?mb=1');
      await timedStream(directClient, '/?mb=1');
    }
    const firstByte = async () => {
      const out = { gateway: [] as number[], direct: [] as number[] };
      for (let i = 0; i < TTFB_CALLS; i++) {
        out.gateway.push((await timedStream(gateway, '/fn/bench-stream?mb=0.125')).firstMs);
        out.direct.push((await timedStream(directClient, '/?mb=0.125')).firstMs);
      }
      return out;
    };
    const young = await firstByte();
    for (let i = 0; i < TTFB_WARMUP_CALLS; i++) {
      await timedStream(gateway, '/fn/bench-stream?mb=0.125');
      await timedStream(directClient, '/?mb=0.125');
    }
    const first = await firstByte();
    const speed = { gateway: [] as number[], direct: [] as number[], nginx: [] as number[] };
    const mbPerS = (s: { bytes: number; totalMs: number }) => s.bytes / 2 ** 20 / (s.totalMs / 1000);
    await timedStream(nginxClient, '/?mb=1');
    for (let i = 0; i < MB_ROUNDS; i++) {
      speed.gateway.push(mbPerS(await timedStream(gateway, `/fn/bench-stream?mb=${STREAM_MB}`)));
      speed.direct.push(mbPerS(await timedStream(directClient, `/?mb=${STREAM_MB}`)));
      speed.nginx.push(mbPerS(await timedStream(nginxClient, `/?mb=${STREAM_MB}`)));
    }
    log('streaming: gateway memory under 8 concurrent 500 MB streams');
    const rssBefore = platform.rssBytes();
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, platform.rssBytes())), 50);
    let eightFailed: unknown;
    try {
      const eight = await Promise.all(Array.from({ length: 8 }, () => timedStream(gateway, '/fn/bench-stream?mb=500')));
      if (eight.some((s) => s.bytes !== 500 * 2 ** 20)) throw new Error('a 500 MB stream came back short');
    } catch (err) {
      eightFailed = err;
    } finally {
      clearInterval(sampler);
    }
    const gYoung = median(young.gateway);
    const dYoung = median(young.direct);
    const gFirst = median(first.gateway);
    const dFirst = median(first.direct);
    const gSpeed = median(speed.gateway);
    const dSpeed = median(speed.direct);
    const nSpeed = median(speed.nginx);
    // Each round's ratio (the direct rate moves ~2× between runs on this VM), and their median.
    const roundsOf = (side: number[]) => side.map((v, i) => v / speed.direct[i]!);
    const rounds = (ratios: number[]) => ratios.map((r) => r.toFixed(2)).join(', ');
    const gRatio = median(roundsOf(speed.gateway));
    const nRatio = median(roundsOf(speed.nginx));
    const mb = (n: number) => `${Math.round(n / 2 ** 20)} MB`;
    return [
      {
        measure: `stream: time to first byte (p50 of ${TTFB_CALLS}, alternating, after ${TTFB_WARMUP_CALLS.toLocaleString('en')} calls of each)`,
        platform: ms(gFirst),
        baseline: ms(dFirst),
        comparison: `+${(gFirst - dFirst).toFixed(2)} ms`,
        target: '≤ +1 ms',
        pass: gFirst - dFirst <= 1,
      },
      {
        measure: `stream: time to first byte of young runtimes (p50 of ${TTFB_CALLS}, alternating, after 20 calls of each)`,
        platform: ms(gYoung),
        baseline: ms(dYoung),
        comparison: `+${(gYoung - dYoung).toFixed(2)} ms`,
        target: '—',
        pass: undefined,
      },
      {
        measure: `stream: ${STREAM_MB} MB streamed (median of ${MB_ROUNDS}, alternating)`,
        platform: `${gSpeed.toFixed(0)} MB/s`,
        baseline: `${dSpeed.toFixed(0)} MB/s`,
        comparison: `${gRatio.toFixed(2)}× (rounds: ${rounds(roundsOf(speed.gateway))})`,
        target: '≥ 0.8×',
        pass: gRatio >= 0.8,
      },
      {
        measure: `stream: ${STREAM_MB} MB streamed through nginx in front of the same container (one proxy hop here), same rounds`,
        platform: `${nSpeed.toFixed(0)} MB/s`,
        baseline: `${dSpeed.toFixed(0)} MB/s`,
        comparison: `${nRatio.toFixed(2)}× (rounds: ${rounds(roundsOf(speed.nginx))}; the gateway: ${(gSpeed / nSpeed).toFixed(2)}× of nginx)`,
        target: '—',
        pass: undefined,
      },
      eightFailed === undefined
        ? {
            measure: 'stream: gateway RSS, before and peak during 8 concurrent 500 MB streamed answers',
            platform: `${mb(rssBefore)} → ${mb(peak)}`,
            baseline: '—',
            comparison: `+${mb(peak - rssBefore)}`,
            target: '—',
            pass: undefined,
          }
        : failedRow('stream: 8 concurrent 500 MB streamed answers', eightFailed),
    ];
  } finally {
    await gateway.close();
    await nginxClient?.close();
    await nginx?.stop();
    await directClient.close();
    await direct.remove();
  }
}

// /healthz and /metrics: series from invocation events, trigger rejections and container counts, one registry per app.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QueueFullError } from '../../../invoker/core/errors.js';
import { finished, testGateway, type TestGateway } from './fakes.js';

let gw: TestGateway;
beforeEach(async () => {
  gw = await testGateway();
});
afterEach(async () => {
  await gw.app.close();
});

const scrape = async (app = gw.app) => {
  const res = await app.inject({ url: '/metrics' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain/);
  return res.body;
};

describe('health', () => {
  it('answers /healthz with ok and no token', async () => {
    const res = await gw.app.inject({ url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });
});

describe('metrics', () => {
  it('counts invocations from events, by function, status and start', async () => {
    gw.invoker.emit(finished());
    gw.invoker.emit(finished({ coldStart: false, initMs: undefined, durationMs: 100 }));
    gw.invoker.emit(finished({ coldStart: false, initMs: undefined, status: 'timeout', httpStatus: 504, trigger: 'async' }));
    const text = await scrape();
    expect(text).toContain('faas_invocations_total{function="hello",status="ok",start="cold"} 1');
    expect(text).toContain('faas_invocations_total{function="hello",status="ok",start="warm"} 1');
    expect(text).toContain('faas_invocations_total{function="hello",status="timeout",start="warm"} 1');
    expect(text).toContain('faas_invocation_duration_seconds_count{function="hello"} 3');
    expect(text).toContain('faas_invocation_duration_seconds_sum{function="hello"} 0.6');
    expect(text).toContain('faas_cold_start_seconds_count{function="hello"} 1');
    expect(text).toContain('faas_cold_start_seconds_sum{function="hello"} 0.18');
    expect(text).toContain('faas_queue_wait_seconds_count{function="hello"} 3');
    // 1024 MB for 250 + 100 + 250 billed ms.
    expect(text).toMatch(/faas_gigabyte_seconds_total\{function="hello"\} 0\.6\d*\n/);
  });

  it('counts trigger rejections (429) with their status and no start', async () => {
    gw.invoker.answer = () => Promise.reject(new QueueFullError('queue full'));
    expect((await gw.app.inject({ url: '/fn/hello' })).statusCode).toBe(429);
    expect(await scrape()).toContain('faas_invocations_total{function="hello",status="throttled",start="none"} 1');
  });

  it('reports containers by state at scrape time, and process metrics', async () => {
    gw.invoker.counts = { prewarmed: 2, starting: 1, idle: 4, paused: 1, busy: 3, removing: 0 };
    const text = await scrape();
    expect(text).toContain('faas_containers{state="idle"} 4');
    expect(text).toContain('faas_containers{state="paused"} 1');
    expect(text).toContain('faas_containers{state="busy"} 3');
    expect(text).toContain('faas_containers{state="prewarmed"} 2');
    expect(text).toMatch(/\nprocess_resident_memory_bytes \d+/);
  });

  it('keeps one registry per app and stops listening when the app closes', async () => {
    const other = await testGateway();
    try {
      other.invoker.emit(finished({ fn: 'elsewhere' }));
      expect(await scrape(other.app)).toContain('function="elsewhere"');
      expect(await scrape()).not.toContain('function="elsewhere"');
    } finally {
      await other.app.close();
    }
    expect(other.invoker.listenerCount).toBe(0);
  });
});

// How the platform reaches Redis: a URL (TLS, ACL user, database) or Sentinel, and the settings naming them.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../platform/config.js';
import { parseSentinels, redisOptions, ReplicaWait } from '../../../platform/redis-connection.js';

describe('Redis connection', () => {
  it('reads a URL: host, port, ACL user and password, database, and TLS for rediss://', () => {
    const target = { url: 'rediss://faas:s%40cret@redis.example.com:6380/2', waitReplicas: 0, waitTimeoutMs: 1000 };
    expect(redisOptions(target)).toEqual({
      host: 'redis.example.com',
      port: 6380,
      username: 'faas',
      password: 's@cret',
      db: 2,
      tls: { servername: 'redis.example.com' },
    });
    expect(redisOptions({ url: 'redis://127.0.0.1:6379', waitReplicas: 0, waitTimeoutMs: 1000 })).toEqual({ host: '127.0.0.1', port: 6379 });
  });

  it('asks the sentinels for the master, the URL giving only credentials, TLS and database', () => {
    const options = redisOptions({
      url: 'redis://:pw@ignored:1/1',
      sentinels: [{ host: '10.0.0.1', port: 26379 }],
      masterName: 'faas',
      sentinelPassword: 'spw',
      waitReplicas: 1,
      waitTimeoutMs: 1000,
    });
    expect(options).toEqual({ password: 'pw', db: 1, sentinels: [{ host: '10.0.0.1', port: 26379 }], name: 'faas', sentinelPassword: 'spw' });
  });

  it('parses REDIS_SENTINELS, default port 26379, and refuses what is not host:port', () => {
    expect(parseSentinels('10.0.0.1:26379, redis-b:26380,redis-c')).toEqual([
      { host: '10.0.0.1', port: 26379 },
      { host: 'redis-b', port: 26380 },
      { host: 'redis-c', port: 26379 },
    ]);
    expect(() => parseSentinels('a:0')).toThrow(/not host:port/);
    expect(() => parseSentinels(':26379')).toThrow(/not host:port/);
  });

  it('waits for one replica by default with sentinels, none without; names the variable when wrong', () => {
    expect(loadConfig({}).redis).toEqual({ url: 'redis://127.0.0.1:6379', waitReplicas: 0, waitTimeoutMs: 1000 });
    expect(loadConfig({ REDIS_SENTINELS: 's1:26379,s2:26379' }).redis).toMatchObject({ masterName: 'mymaster', waitReplicas: 1 });
    expect(loadConfig({ REDIS_SENTINELS: 's1:26379', FAAS_REDIS_WAIT_REPLICAS: '0' }).redis.waitReplicas).toBe(0);
    expect(() => loadConfig({ REDIS_SENTINELS: 's1:99999' })).toThrow(/REDIS_SENTINELS/);
    expect(() => loadConfig({ REDIS_URL: 'http://x' })).toThrow(/REDIS_URL/);
  });
});

describe('gateway↔invoker TLS settings', () => {
  it('takes a certificate and key together, and a CA for gateways', () => {
    expect(loadConfig({}).invokerTls).toEqual({});
    expect(loadConfig({ FAAS_INVOKER_TLS_CERT: '/c.pem', FAAS_INVOKER_TLS_KEY: '/k.pem', FAAS_INVOKER_TLS_CA: '/ca.pem' }).invokerTls).toEqual({
      certFile: '/c.pem',
      keyFile: '/k.pem',
      caFile: '/ca.pem',
    });
    expect(() => loadConfig({ FAAS_INVOKER_TLS_CERT: '/c.pem' })).toThrow(/FAAS_INVOKER_TLS_CERT and FAAS_INVOKER_TLS_KEY go together/);
  });
});

describe('ReplicaWait', () => {
  /** A connection answering ROLE with `replicas` replicas, WAIT after `release()` with how many acknowledged. */
  function fakeRedis(replicas: number, options: { roleDenied?: boolean; waitFails?: boolean } = {}) {
    const calls: string[] = [];
    const pending: Array<() => void> = [];
    const redis = {
      async call(command: string, ...args: unknown[]) {
        calls.push([command, ...args].join(' '));
        if (command === 'ROLE') {
          if (options.roleDenied) throw new Error('NOPERM');
          return ['master', 1, Array.from({ length: replicas }, () => ['127.0.0.1', '1', '1'])];
        }
        if (options.waitFails) throw new Error('connection lost');
        await new Promise<void>((resolve) => pending.push(resolve));
        return Math.min(Number(args[0]), replicas);
      },
    };
    return {
      redis: redis as unknown as import('ioredis').Redis,
      calls,
      release: () => {
        for (const r of pending.splice(0)) r();
      },
    };
  }
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('sends one WAIT for every writer waiting when it goes, and the next for those who came meanwhile', async () => {
    const { redis, calls, release } = fakeRedis(1);
    const short: number[] = [];
    const wait = new ReplicaWait(redis, { waitReplicas: 1, waitTimeoutMs: 1000 }, (acked) => short.push(acked));
    const first = [wait.afterWrite(), wait.afterWrite(), wait.afterWrite()];
    await settle();
    expect(calls.filter((c) => c.startsWith('WAIT'))).toEqual(['WAIT 1 1000']);
    const later = wait.afterWrite();
    release();
    await Promise.all(first);
    await settle();
    expect(calls.filter((c) => c.startsWith('WAIT'))).toHaveLength(2);
    release();
    await later;
    expect(short).toEqual([]);
  });

  it('does not wait when the master has no replica (after a failover), and says the write is short', async () => {
    const { redis, calls } = fakeRedis(0);
    const short: number[] = [];
    await new ReplicaWait(redis, { waitReplicas: 1, waitTimeoutMs: 1000 }, (acked) => short.push(acked)).afterWrite();
    expect(calls).toEqual(['ROLE']);
    expect(short).toEqual([0]);
  });

  it('waits for as many as wanted when ROLE is denied, and never throws when WAIT fails', async () => {
    const denied = fakeRedis(2, { roleDenied: true });
    const pending = new ReplicaWait(denied.redis, { waitReplicas: 2, waitTimeoutMs: 500 }).afterWrite();
    await settle();
    expect(denied.calls).toEqual(['ROLE', 'WAIT 2 500']);
    denied.release();
    await pending;
    const failing = fakeRedis(1, { waitFails: true });
    const errors: string[] = [];
    await new ReplicaWait(failing.redis, { waitReplicas: 1, waitTimeoutMs: 500 }, (_a, _w, err) => errors.push(err?.message ?? '')).afterWrite();
    expect(errors).toEqual(['connection lost']);
  });
});

// How the platform reaches Redis: a URL (TLS, ACL user, database) or Sentinel, and the settings naming them.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../platform/config.js';
import { parseSentinels, redisOptions } from '../../../platform/redis-connection.js';

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

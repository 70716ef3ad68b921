import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../platform/config.js';

describe('loadConfig', () => {
  it('applies defaults when the environment is empty', () => {
    const config = loadConfig({}, '/srv/app');
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      publicUrl: 'http://127.0.0.1:8080',
      redisUrl: 'redis://127.0.0.1:6379',
      redisPrefix: 'faas:',
      dataDir: '/srv/app/.faas',
      dockerSocket: '/var/run/docker.sock',
      maxQueue: 100,
      pidsLimit: 128,
      maxBodyBytes: 6 * 1024 * 1024,
      pricePerGbSecond: 0.0000166667,
      pricePerMillionRequests: 0.2,
    });
    expect(config.token).toBeUndefined();
    expect(config.metricsToken).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads the /metrics scrape token from FAAS_METRICS_TOKEN, apart from the admin token', () => {
    const config = loadConfig({ FAAS_TOKEN: 'admin-secret', FAAS_METRICS_TOKEN: 'scrape-secret' });
    expect(config.metricsToken).toBe('scrape-secret');
    expect(config.token).toBe('admin-secret');
    expect(loadConfig({ FAAS_METRICS_TOKEN: '' }).metricsToken).toBeUndefined();
  });

  it('pauses idle containers after 50 ms unless told a time or "never"', () => {
    expect(loadConfig({}).pauseAfterMs).toBe(0);
    expect(loadConfig({ FAAS_PAUSE_AFTER_MS: '2000' }).pauseAfterMs).toBe(2000);
    expect(loadConfig({ FAAS_PAUSE_AFTER_MS: 'never' }).pauseAfterMs).toBeUndefined();
    expect(() => loadConfig({ FAAS_PAUSE_AFTER_MS: 'soon' })).toThrow(/FAAS_PAUSE_AFTER_MS=soon is not a number >= 0 or "never"/);
  });

  it('reads every setting from the environment', () => {
    const config = loadConfig(
      {
        FAAS_HOST: '0.0.0.0',
        FAAS_PORT: '9000',
        FAAS_TOKEN: 'secret',
        REDIS_URL: 'redis://r:6380',
        FAAS_DATA_DIR: '/var/lib/faas',
        FAAS_MAX_QUEUE: '5',
        FAAS_PRICE_GB_SECOND: '0.00001',
        FAAS_INVOKER_ID: 'inv-1',
      },
      '/srv/app',
    );
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      publicUrl: 'http://127.0.0.1:9000',
      token: 'secret',
      redisUrl: 'redis://r:6380',
      dataDir: '/var/lib/faas',
      maxQueue: 5,
      pricePerGbSecond: 0.00001,
      invokerId: 'inv-1',
    });
  });

  it('bounds the shutdown of `faas up` by 30 s unless FAAS_SHUTDOWN_TIMEOUT_MS says otherwise', () => {
    expect(loadConfig({}).shutdownTimeoutMs).toBe(30_000);
    expect(loadConfig({ FAAS_SHUTDOWN_TIMEOUT_MS: '5000' }).shutdownTimeoutMs).toBe(5_000);
    expect(() => loadConfig({ FAAS_SHUTDOWN_TIMEOUT_MS: '10' })).toThrowError(/FAAS_SHUTDOWN_TIMEOUT_MS=10 is not a number >= 1000/);
  });

  it("limits a function's cpus to the host's CPU count unless FAAS_MAX_CPUS_PER_FUNCTION says otherwise", () => {
    expect(loadConfig({}).maxCpusPerFunction).toBe(os.availableParallelism());
    expect(loadConfig({ FAAS_MAX_CPUS_PER_FUNCTION: '1.5' }).maxCpusPerFunction).toBe(1.5);
    expect(() => loadConfig({ FAAS_MAX_CPUS_PER_FUNCTION: '0' })).toThrow(/FAAS_MAX_CPUS_PER_FUNCTION=0 is not a number >= 0.05/);
    expect(() => loadConfig({ FAAS_MAX_CPUS_PER_FUNCTION: 'many' })).toThrow(ConfigError);
  });

  it.each([
    ['FAAS_PORT', 'eighty'],
    ['FAAS_MAX_QUEUE', '-1'],
    ['FAAS_PIDS_LIMIT', '2'],
  ])('rejects %s=%s with a message naming the variable', (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrowError(ConfigError);
    expect(() => loadConfig({ [key]: value })).toThrowError(key);
  });
  it('reads the CIDRs functions with network may reach anyway from FAAS_FUNCTION_NETWORK_ALLOW, none by default', () => {
    expect(loadConfig({}).functionNetworkAllow).toEqual([]);
    expect(loadConfig({ FAAS_FUNCTION_NETWORK_ALLOW: ' 10.1.2.0/24, 192.168.5.7 ,,10.9.9.9/16' }).functionNetworkAllow).toEqual([
      '10.1.2.0/24',
      '192.168.5.7/32',
      '10.9.0.0/16',
    ]);
    // One service: an address (or range) and a TCP port, or a port of this host.
    expect(loadConfig({ FAAS_FUNCTION_NETWORK_ALLOW: '10.0.0.5:5432, 10.1.2.9/24:443,host:6379' }).functionNetworkAllow).toEqual([
      '10.0.0.5/32:5432',
      '10.1.2.0/24:443',
      'host:6379',
    ]);
    for (const bad of ['10.1.2.0/33', 'fd00::/8', 'intranet', '10.1.2/24', 'host', 'host:0', '10.0.0.5:70000', 'db:5432']) {
      expect(() => loadConfig({ FAAS_FUNCTION_NETWORK_ALLOW: bad })).toThrowError(/FAAS_FUNCTION_NETWORK_ALLOW/);
    }
  });
});

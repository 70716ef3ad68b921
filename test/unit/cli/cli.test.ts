import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleFunction } from '../../../cli/bundle.js';
import { loadCliConfig } from '../../../cli/cli-config.js';
import { deploySettings } from '../../../cli/commands/deploy.js';
import { parseDurationMs } from '../../../cli/duration.js';
import { CliError } from '../../../cli/errors.js';
import { formatAge } from '../../../cli/output.js';

describe('formatAge', () => {
  it.each([
    [850, '850 ms'],
    [12_400, '12 s'],
    [60_000, '1 min'],
    [200_000, '3 min 20 s'],
    [7_500_000, '2 h 5 min'],
    [3_600_000, '1 h'],
  ])('shows %i ms as %s', (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });
});

describe('parseDurationMs', () => {
  it.each([
    ['500', 500],
    ['500ms', 500],
    ['30s', 30_000],
    ['1.5s', 1_500],
    ['10m', 600_000],
    ['1h', 3_600_000],
  ])('%s → %i ms', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it.each(['', 'soon', '10 minutes', '-5s'])('rejects "%s" with an example of the format', (text) => {
    expect(() => parseDurationMs(text)).toThrowError(/e\.g\. 500ms, 30s/);
  });
});

describe('deploySettings', () => {
  it('names the function after the file and maps every flag to the API field', () => {
    const { name, settings } = deploySettings('functions/Hello.ts', {
      memory: '256',
      cpu: '0.5',
      timeout: '10s',
      concurrency: '4',
      minScale: '1',
      maxScale: '5',
      idleTimeout: '2m',
      env: ['A=1', 'B=x=y'],
      network: true,
    });
    expect(name).toBe('hello');
    expect(settings).toEqual({
      memoryMb: 256,
      cpus: 0.5,
      timeoutMs: 10_000,
      concurrency: 4,
      minScale: 1,
      maxScale: 5,
      idleTimeoutMs: 120_000,
      env: { A: '1', B: 'x=y' },
      network: true,
    });
  });

  it('maps the async trigger flags', () => {
    const { settings } = deploySettings('w.ts', {
      queue: ['orders', 'refunds'],
      on: ['order.created'],
      schedule: ['*/5 * * * *', '0 3 * * *'],
      timezone: 'Europe/Paris',
      attempts: '5',
      maxEventAge: '1h',
      maxBacklog: '1000',
      batchSize: '10',
    });
    expect(settings).toEqual({
      queues: ['orders', 'refunds'],
      topics: ['order.created'],
      schedules: [
        { cron: '*/5 * * * *', timezone: 'Europe/Paris' },
        { cron: '0 3 * * *', timezone: 'Europe/Paris' },
      ],
      maxAttempts: 5,
      maxEventAgeMs: 3_600_000,
      maxBacklog: 1000,
      batchSize: 10,
    });
  });

  it.each([
    [{ queue: ['has space'] }, /--queue has space is not a valid name/],
    [{ attempts: '-1' }, /--attempts -1 is not a whole number/],
    [{ timezone: 'UTC' }, /--timezone applies to --schedule/],
    [{ memory: 'lots' }, /--memory lots is not a whole number/],
    [{ env: ['NOVALUE'] }, /--env NOVALUE is not KEY=VALUE/],
    [{ timeout: 'later' }, /--timeout/],
    [{ name: 'Bad_Name' }, /not a valid function name/],
  ])('rejects %o with a message naming the flag', (flags, message) => {
    expect(() => deploySettings('f.ts', flags)).toThrowError(message);
  });
});

describe('bundleFunction', () => {
  it('bundles a TypeScript function into ESM with its npm dependency inlined', async () => {
    const bundle = await bundleFunction('functions/slugify.ts');
    expect(bundle.code).toContain('export {');
    expect(bundle.code).not.toMatch(/from ["']slugify["']/);
    expect(bundle.bytes).toBeGreaterThan(1000);
  });

  it('reports a syntax error as file:line:column before anything is uploaded', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'faas-bundle-'));
    const file = path.join(dir, 'broken.ts');
    writeFileSync(file, 'export default () => {\n  return (1 +;\n};\n');
    const error = await bundleFunction(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toMatch(/broken\.ts:2:\d+: /);
  });

  it('names a missing file', async () => {
    await expect(bundleFunction('functions/nope.ts')).rejects.toThrowError(/no such file/);
  });
});

describe('loadCliConfig', () => {
  it('reads FAAS_URL and FAAS_TOKEN', () => {
    expect(loadCliConfig({ FAAS_URL: 'http://gw:9000/', FAAS_TOKEN: 't' })).toMatchObject({ url: 'http://gw:9000', token: 't' });
  });

  it('falls back to the token saved by faas up', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'faas-cli-'));
    writeFileSync(path.join(dir, 'token'), 'saved\n');
    expect(loadCliConfig({ FAAS_DATA_DIR: dir })).toMatchObject({ url: 'http://127.0.0.1:8080', token: 'saved' });
  });
});

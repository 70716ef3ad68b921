// The measures behind the per-tenant queued-bytes limit: what a job counts (the same when accepted and
// when released) and whose count a queue belongs to; and the CLI's size flag.
import { describe, expect, it } from 'vitest';
import { queuedBytesOf, type JobData } from '../../../triggers/job.js';
import { tenantOfQueue } from '../../../triggers/queued-bytes.js';
import { parseBytes } from '../../../cli/commands/tenants.js';

const b64 = (n: number) => Buffer.alloc(n, 7).toString('base64');
const base = { fn: 'acme.f', acceptedAt: 1 };

describe('queuedBytesOf', () => {
  it('counts the decoded body of async calls, queue messages and events, and nothing for a cron tick', () => {
    const cases: Array<[JobData, number]> = [
      [{ ...base, trigger: 'async', request: { method: 'POST', path: '/', rawQuery: '', headers: {}, body: b64(1000) } }, 1000],
      [{ ...base, trigger: 'async', request: { method: 'GET', path: '/', rawQuery: '', headers: {}, body: '' } }, 0],
      [{ ...base, trigger: 'queue', message: { queue: 'acme~q', body: b64(1_000_001) } }, 1_000_001],
      [{ ...base, trigger: 'event', event: { topic: 't', attributes: { specversion: '1.0', id: '1', source: 's', type: 't' }, data: b64(5) } }, 5],
      [{ ...base, trigger: 'cron', schedule: { cron: '* * * * *' } }, 0],
    ];
    for (const [data, bytes] of cases) expect(queuedBytesOf(data)).toBe(bytes);
  });
});

describe('tenantOfQueue', () => {
  it("names the tenant of a function's own queue and of a named queue; refuses anything else", () => {
    expect(tenantOfQueue('fn.acme.resize')).toBe('acme');
    expect(tenantOfQueue('fn.resize')).toBe('default');
    expect(tenantOfQueue('q.acme~orders')).toBe('acme');
    expect(tenantOfQueue('q.orders.eu')).toBe('default');
    expect(() => tenantOfQueue('bull:meta')).toThrow(/not a platform queue/);
  });
});

describe('parseBytes (--max-queued-bytes)', () => {
  it('reads bytes with decimal and binary units, and "none" as clearing the quota', () => {
    expect(parseBytes('--max-queued-bytes', '1048576')).toBe(1_048_576);
    expect(parseBytes('--max-queued-bytes', '512MiB')).toBe(512 * 1024 * 1024);
    expect(parseBytes('--max-queued-bytes', '1.5 GB')).toBe(1_500_000_000);
    expect(parseBytes('--max-queued-bytes', '64kb')).toBe(64_000);
    expect(parseBytes('--max-queued-bytes', 'none')).toBeNull();
    expect(parseBytes('--max-queued-bytes', undefined)).toBeUndefined();
  });

  it('refuses what is not a size, naming the flag and showing the form', () => {
    expect(() => parseBytes('--max-queued-bytes', '12 parsecs')).toThrow(/--max-queued-bytes 12 parsecs is not a size/);
    expect(() => parseBytes('--max-queued-bytes', '-5')).toThrow(/not a size/);
  });
});

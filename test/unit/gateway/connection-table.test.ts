// Who keeps a connection when clients open too many: per-client and total caps, the longest-waiting idle or
// receiving connection closed for a newcomer, busy ones never.
import { describe, expect, it } from 'vitest';
import { ConnectionTable, clientKey } from '../../../gateway/edge/connection-table.js';

const table = (maxConnections: number, maxPerClient = 100) => new ConnectionTable<string>({ maxConnections, maxPerClient });

describe('ConnectionTable', () => {
  it('accepts up to the per-client cap and refuses past it, other clients unaffected', () => {
    const t = table(10, 2);
    expect(t.admit('a1', 'A')).toEqual({ kind: 'accept' });
    expect(t.admit('a2', 'A')).toEqual({ kind: 'accept' });
    expect(t.admit('a3', 'A')).toEqual({ kind: 'refuse', reason: 'client_limit' });
    expect(t.admit('b1', 'B')).toEqual({ kind: 'accept' });
    t.closed('a1');
    expect(t.admit('a3', 'A')).toEqual({ kind: 'accept' });
  });

  it('at the total cap closes the connection that has waited longest, never a busy one', () => {
    const t = table(3);
    t.admit('c1', 'A');
    t.admit('c2', 'B');
    t.admit('c3', 'C');
    t.busy('c1');
    t.waiting('c2'); // c2 starts a new request: now newer than c3
    expect(t.admit('c4', 'D')).toEqual({ kind: 'evict', victim: 'c3' });
    expect(t.admit('c5', 'D')).toEqual({ kind: 'evict', victim: 'c2' });
    expect(t.size).toBe(3);
  });

  it('refuses a newcomer when every connection is busy, and accepts again once one is idle', () => {
    const t = table(2);
    t.admit('c1', 'A');
    t.admit('c2', 'B');
    t.busy('c1');
    t.busy('c2');
    expect(t.admit('c3', 'C')).toEqual({ kind: 'refuse', reason: 'total_limit' });
    t.waiting('c2');
    expect(t.admit('c3', 'C')).toEqual({ kind: 'evict', victim: 'c2' });
  });

  it("frees an evicted connection's place in its client's count", () => {
    const t = table(1, 1);
    t.admit('a1', 'A');
    expect(t.admit('b1', 'B')).toEqual({ kind: 'evict', victim: 'a1' });
    t.closed('a1'); // the socket's own close after eviction: no double count
    expect(t.admit('a2', 'A')).toEqual({ kind: 'evict', victim: 'b1' });
  });
});

describe('clientKey', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    [undefined, '?'],
  ])('%s counts as %s', (address, key) => {
    expect(clientKey(address)).toBe(key);
  });
});

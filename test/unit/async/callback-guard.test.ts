// Which callback targets are refused: loopback, unspecified and link-local, literal or resolved by DNS.
import { describe, expect, it } from 'vitest';
import { guardedLookup, isLocalAddress, localHostProblem } from '../../../invoker/async/callback-guard.js';

describe('isLocalAddress', () => {
  it.each(['127.0.0.1', '127.1.2.3', '0.0.0.0', '169.254.169.254', '::1', '::', 'fe80::1', '::ffff:127.0.0.1'])('%s is local', (ip) => {
    expect(isLocalAddress(ip)).toBe(true);
  });
  it.each(['10.0.0.1', '192.168.1.10', '8.8.8.8', '2001:db8::1', '::ffff:10.1.2.3', 'example.com'])('%s is not', (ip) => {
    expect(isLocalAddress(ip)).toBe(false);
  });
});

describe('localHostProblem', () => {
  it('names literal local hosts, and leaves others alone', () => {
    expect(localHostProblem(new URL('http://localhost:3000/x'))).toMatch(/FAAS_CALLBACK_ALLOW_LOCAL/);
    expect(localHostProblem(new URL('http://api.localhost/x'))).toMatch(/this host/);
    expect(localHostProblem(new URL('http://[::1]:80/'))).toMatch(/this host/);
    expect(localHostProblem(new URL('https://hooks.example.com/done'))).toBeUndefined();
  });
});

describe('guardedLookup', () => {
  it('fails a name that resolves to a local address at connect time', async () => {
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => guardedLookup('localhost', {}, (e) => resolve(e)));
    expect(err?.code).toBe('ECALLBACKLOCAL');
  });
});

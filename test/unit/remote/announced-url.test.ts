// The URL an invoker announces: configured, its own, or — listening on a wildcard — the address it reaches Redis from.
import { describe, expect, it } from 'vitest';
import { announcedUrl } from '../../../invoker/remote/announced-url.js';

describe('announcedUrl', () => {
  it('is FAAS_INVOKER_URL when set', () => {
    expect(
      announcedUrl({ serverUrl: 'http://127.0.0.1:8081', listenHost: '0.0.0.0', configured: 'https://inv-1.internal:9443', redisLocalAddress: '10.0.0.5' }),
    ).toBe('https://inv-1.internal:9443');
  });
  it('is the server URL when it listens on one address', () => {
    expect(announcedUrl({ serverUrl: 'http://10.200.0.2:8081', listenHost: '10.200.0.2', configured: undefined, redisLocalAddress: '10.200.0.2' })).toBe(
      'http://10.200.0.2:8081',
    );
    expect(announcedUrl({ serverUrl: 'http://127.0.0.1:8081', listenHost: '127.0.0.1', configured: undefined, redisLocalAddress: '127.0.0.1' })).toBe(
      'http://127.0.0.1:8081',
    );
  });
  it('listening on every address, is the address this host reaches Redis from, with the server’s scheme and port', () => {
    expect(announcedUrl({ serverUrl: 'http://127.0.0.1:8081', listenHost: '0.0.0.0', configured: undefined, redisLocalAddress: '10.200.0.2' })).toBe(
      'http://10.200.0.2:8081',
    );
    expect(announcedUrl({ serverUrl: 'https://127.0.0.1:9443', listenHost: '0.0.0.0', configured: undefined, redisLocalAddress: '::ffff:10.1.2.3' })).toBe(
      'https://10.1.2.3:9443',
    );
    expect(announcedUrl({ serverUrl: 'http://127.0.0.1:8081', listenHost: '::', configured: undefined, redisLocalAddress: 'fd00::7' })).toBe(
      'http://[fd00::7]:8081',
    );
  });
  it('without a Redis address (not connected) stays the server URL', () => {
    expect(announcedUrl({ serverUrl: 'http://127.0.0.1:8081', listenHost: '0.0.0.0', configured: undefined, redisLocalAddress: undefined })).toBe(
      'http://127.0.0.1:8081',
    );
  });
});

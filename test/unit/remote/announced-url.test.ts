// The URL an invoker announces: configured, its listen address, or — listening on a wildcard — the address it reaches Redis from.
import { describe, expect, it } from 'vitest';
import { announcedUrl } from '../../../invoker/remote/announced-url.js';

describe('announcedUrl', () => {
  it('is FAAS_INVOKER_URL when set', () => {
    expect(announcedUrl('http://0.0.0.0:8081', 'https://inv-1.internal:9443', '10.0.0.5')).toBe('https://inv-1.internal:9443');
  });
  it('is the listen address when it is a real one', () => {
    expect(announcedUrl('http://10.200.0.2:8081', undefined, '10.200.0.2')).toBe('http://10.200.0.2:8081');
    expect(announcedUrl('http://127.0.0.1:8081', undefined, '127.0.0.1')).toBe('http://127.0.0.1:8081');
  });
  it('listening on every address, is the address this host reaches Redis from, keeping scheme and port', () => {
    expect(announcedUrl('http://0.0.0.0:8081', undefined, '10.200.0.2')).toBe('http://10.200.0.2:8081');
    expect(announcedUrl('https://0.0.0.0:9443', undefined, '::ffff:10.1.2.3')).toBe('https://10.1.2.3:9443');
    expect(announcedUrl('http://[::]:8081', undefined, 'fd00::7')).toBe('http://[fd00::7]:8081');
  });
  it('without a Redis address (not connected yet) stays the listen address', () => {
    expect(announcedUrl('http://0.0.0.0:8081', undefined, undefined)).toBe('http://0.0.0.0:8081');
  });
});

// A function's cookies stay its own: pinned to its /fn prefix on the shared origin, never for a parent domain.
import { describe, expect, it } from 'vitest';
import { scopeSetCookie } from '../../../gateway/edge/function-cookies.js';

describe('scopeSetCookie under /fn/acme/shop', () => {
  it.each([
    ['sid=x; Path=/fn/tenant-b/', 'sid=x; Path=/fn/acme/shop'],
    ['sid=x; Path=/', 'sid=x; Path=/fn/acme/shop'],
    ['sid=x', 'sid=x; Path=/fn/acme/shop'],
    ['sid=x; Path=/fn/acme/shopping', 'sid=x; Path=/fn/acme/shop'],
    ['sid=x; Path=/fn/acme/shop/cart; HttpOnly', 'sid=x; Path=/fn/acme/shop/cart; HttpOnly'],
    ['sid=x; Path=/fn/acme/shop', 'sid=x; Path=/fn/acme/shop'],
    ['sid=x; Domain=localhost; Secure; SameSite=Lax', 'sid=x; Path=/fn/acme/shop; Secure; SameSite=Lax'],
    ['sid=x; domain=.example.com; path=/; max-age=60', 'sid=x; Path=/fn/acme/shop; max-age=60'],
  ])('%s → %s', (cookie, scoped) => {
    expect(scopeSetCookie(cookie, '/fn/acme/shop')).toBe(scoped);
  });
});

describe('scopeSetCookie at a function host', () => {
  it.each([
    ['sid=x; Path=/; Domain=fn.example.com; HttpOnly', 'sid=x; Path=/; HttpOnly'],
    ['sid=x', 'sid=x'],
    ['a=b=c; Expires=Wed, 21 Oct 2026 07:28:00 GMT', 'a=b=c; Expires=Wed, 21 Oct 2026 07:28:00 GMT'],
  ])('%s → %s', (cookie, scoped) => {
    expect(scopeSetCookie(cookie)).toBe(scoped);
  });
});

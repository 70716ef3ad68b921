// What a /fn/ URL names, as the trigger reads it without a router: the function, its path and query, or the
// edge's own answer (404 with no name, 414 for a name segment over 100 characters, 400 for broken encoding).
import { describe, expect, it } from 'vitest';
import { functionPrefix, isRejection, parseTriggerUrl } from '../../../gateway/trigger/trigger-url.js';

const known = (id: string) => id === 'acme.shop';

describe('parseTriggerUrl', () => {
  it.each([
    ['/fn/hello', { fn: 'hello', path: '/', rawQuery: '' }],
    ['/fn/hello/', { fn: 'hello', path: '/', rawQuery: '' }],
    ['/fn/hello?x=1&y', { fn: 'hello', path: '/', rawQuery: 'x=1&y' }],
    ['/fn/hello/a/b%20c?q=/x', { fn: 'hello', path: '/a/b%20c', rawQuery: 'q=/x' }],
    ['/fn/h%65llo/x', { fn: 'hello', path: '/x' }],
    ['/fn/hello@2/x', { fn: 'hello', qualifier: '2', path: '/x' }],
    ['/fn/acme/shop/cart', { fn: 'acme.shop', path: '/cart' }],
    ['/fn/acme/shop@live', { fn: 'acme.shop', qualifier: 'live', path: '/' }],
    ['/fn/acme/other', { fn: 'acme', path: '/other' }],
  ])('%s → %j', (url, expected) => {
    const target = parseTriggerUrl(url, 'GET', known);
    expect(isRejection(target)).toBe(false);
    expect(target).toMatchObject({ resolved: expected });
  });

  it.each([
    ['/fn/', 404, 'NOT_FOUND'],
    ['/fn//x', 404, 'NOT_FOUND'],
    ['/fn/?q', 404, 'NOT_FOUND'],
    [`/fn/${'a'.repeat(101)}/x`, 414, 'URI_TOO_LONG'],
    ['/fn/hello/%zz', 400, 'BAD_REQUEST'],
    ['/fn/%E9/x', 400, 'BAD_REQUEST'],
  ])('%s → %i %s', (url, status, code) => {
    expect(parseTriggerUrl(url, 'GET', known)).toMatchObject({ status, code });
  });

  it('takes a 100-character name segment and a percent sign in the query as they are', () => {
    expect(isRejection(parseTriggerUrl(`/fn/${'a'.repeat(100)}`, 'GET', known))).toBe(false);
    expect(parseTriggerUrl('/fn/hello?q=%zz', 'GET', known)).toMatchObject({ resolved: { fn: 'hello', rawQuery: 'q=%zz' } });
    expect(parseTriggerUrl('/fn/ac%6De/shop', 'GET', known)).toMatchObject({ first: 'acme', resolved: { fn: 'acme.shop' } });
  });
});

describe('functionPrefix', () => {
  it.each([
    ['/fn/hello/a/b?x', '/a/b', '/fn/hello'],
    ['/fn/hello', '/', '/fn/hello'],
    ['/fn/acme/shop/cart', '/cart', '/fn/acme/shop'],
  ])('%s with path %s → %s', (url, path, prefix) => {
    expect(functionPrefix(url, path)).toBe(prefix);
  });
});

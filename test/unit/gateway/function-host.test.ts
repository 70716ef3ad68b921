// Which function a Host names under the platform's domain, and the URL a function is told it has.
import { describe, expect, it } from 'vitest';
import { functionHostUrl, functionOfHost, routedUrl } from '../../../gateway/edge/function-host.js';

describe('function hosts', () => {
  it('names a default-tenant function by one label and a tenant function by two, any case, any port', () => {
    expect(functionOfHost('hello.localhost:8080', 'localhost')).toEqual({ tenant: 'default', name: 'hello' });
    expect(functionOfHost('Hello.LocalHost', 'localhost')).toEqual({ tenant: 'default', name: 'hello' });
    expect(functionOfHost('shop.acme.fn.example.com', 'fn.example.com')).toEqual({ tenant: 'acme', name: 'shop' });
  });

  it('leaves the gateway’s own host, other domains and names that cannot be functions to the gateway', () => {
    expect(functionOfHost('localhost:8080', 'localhost')).toBeUndefined();
    expect(functionOfHost('127.0.0.1:8080', 'localhost')).toBeUndefined();
    expect(functionOfHost('hello.example.org', 'localhost')).toBeUndefined();
    expect(functionOfHost('evil-localhost', 'localhost')).toBeUndefined();
    expect(functionOfHost('a.b.c.localhost', 'localhost')).toBeUndefined();
    expect(functionOfHost('Bad_Name.localhost', 'localhost')).toBeUndefined();
    expect(functionOfHost('hello.default.localhost', 'localhost')).toBeUndefined();
    expect(functionOfHost('hello.localhost', '')).toBeUndefined();
    expect(functionOfHost(undefined, 'localhost')).toBeUndefined();
  });

  it('routes to the function’s /fn path and gives it its own root URL', () => {
    expect(routedUrl({ tenant: 'default', name: 'hello' }, '/a?b=1')).toBe('/fn/hello/a?b=1');
    expect(routedUrl({ tenant: 'acme', name: 'shop' }, '/')).toBe('/fn/acme/shop/');
    expect(functionHostUrl('http://127.0.0.1:8080', 'localhost', { tenant: 'default', name: 'hello' })).toBe('http://hello.localhost:8080/');
    expect(functionHostUrl('https://faas.example.com', 'fn.example.com', { tenant: 'acme', name: 'shop' })).toBe('https://shop.acme.fn.example.com/');
  });
});

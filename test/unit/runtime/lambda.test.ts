import { describe, expect, it } from 'vitest';
import { buildHttpApiEvent, isTextBody, lambdaResultToResponse, type IncomingInvocation } from '../../../runtime-images/node/src/lambda.js';

const inv = (over: Partial<IncomingInvocation> = {}): IncomingInvocation => ({
  method: 'POST',
  path: '/items/7',
  rawQuery: 'color=red&size=m&color=blue',
  headers: { host: 'example.test', 'content-type': 'application/json', cookie: 'a=1; b=2', 'x-many': ['1', '2'], 'user-agent': 'curl/8' },
  body: Buffer.from('{"n":1}'),
  invocationId: 'req-1',
  trigger: 'http',
  context: {},
  receivedAt: Date.UTC(2026, 10, 23, 12, 0, 0),
  ...over,
});

describe('buildHttpApiEvent', () => {
  it('builds an API Gateway HTTP API 2.0 event', () => {
    const event = buildHttpApiEvent(inv());
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/items/7',
      rawQueryString: 'color=red&size=m&color=blue',
      cookies: ['a=1', 'b=2'],
      queryStringParameters: { color: 'red,blue', size: 'm' },
      body: '{"n":1}',
      isBase64Encoded: false,
      requestContext: {
        domainName: 'example.test',
        http: { method: 'POST', path: '/items/7', userAgent: 'curl/8' },
        requestId: 'req-1',
        time: '2026-11-23T12:00:00.000Z',
        timeEpoch: Date.UTC(2026, 10, 23, 12, 0, 0),
      },
    });
    expect(event.headers['x-many']).toBe('1,2');
    expect(event.headers).not.toHaveProperty('cookie');
  });

  it('base64-encodes a binary body', () => {
    const body = Buffer.from([0, 255, 1, 254]);
    const event = buildHttpApiEvent(inv({ body, headers: { 'content-type': 'application/octet-stream' } }));
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body!, 'base64').equals(body)).toBe(true);
  });

  it('leaves out the body and query parameters when there are none', () => {
    const event = buildHttpApiEvent(inv({ body: Buffer.alloc(0), rawQuery: '' }));
    expect(event).not.toHaveProperty('body');
    expect(event).not.toHaveProperty('queryStringParameters');
    expect(event.isBase64Encoded).toBe(false);
  });
});

describe('isTextBody', () => {
  it.each([
    ['text/plain', 'héllo', true],
    ['application/json', '{}', true],
    ['application/vnd.api+json', '{}', true],
    ['image/png', 'x', false],
    [undefined, 'plain', true],
  ])('%s with %s → %s', (type, text, expected) => {
    expect(isTextBody(type, Buffer.from(text))).toBe(expected);
  });

  it('treats invalid utf-8 as binary', () => {
    expect(isTextBody(undefined, Buffer.from([0xff, 0xfe]))).toBe(false);
  });
});

describe('lambdaResultToResponse', () => {
  it('maps statusCode, headers, multiValueHeaders and cookies', () => {
    const res = lambdaResultToResponse({
      statusCode: 201,
      headers: { 'X-One': 1 },
      multiValueHeaders: { 'x-two': ['a', 'b'] },
      cookies: ['a=1', 'b=2'],
      body: 'made',
    });
    expect(res.status).toBe(201);
    expect(res.headers).toEqual([
      ['x-one', '1'],
      ['x-two', 'a'],
      ['x-two', 'b'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
      // A body without a content type is JSON, as API Gateway and function URLs answer it.
      ['content-type', 'application/json'],
    ]);
    expect(res.body.toString()).toBe('made');
  });

  it('refuses a body that is not a string, naming JSON.stringify (API Gateway answers it 502)', () => {
    expect(() => lambdaResultToResponse({ statusCode: 200, body: { not: 'a string' } })).toThrow(
      /body that is an object with not; API Gateway's body is a string: JSON.stringify it/,
    );
  });

  it('decodes a base64 body', () => {
    const res = lambdaResultToResponse({ statusCode: 200, body: Buffer.from([1, 2, 3]).toString('base64'), isBase64Encoded: true });
    expect([...res.body]).toEqual([1, 2, 3]);
  });

  it.each([
    ['a string as text', 'hi', 'text/plain; charset=utf-8', 'hi'],
    ['an object as JSON', { a: 1 }, 'application/json', '{"a":1}'],
  ])('returns %s with 200', (_label, value, type, body) => {
    const res = lambdaResultToResponse(value);
    expect(res.status).toBe(200);
    expect(res.headers).toEqual([['content-type', type]]);
    expect(res.body.toString()).toBe(body);
  });
});

import { describe, expect, it } from 'vitest';
import { NoHandlerError, adapt, detectStyle, webResultToResponse } from '../../../runtime-images/node/src/handler.js';
import { LogTail } from '../../../runtime-images/node/src/log-capture.js';
import type { IncomingInvocation } from '../../../runtime-images/node/src/lambda.js';

const inv: IncomingInvocation = {
  method: 'GET',
  path: '/a',
  rawQuery: 'x=1',
  headers: { host: 'h' },
  body: Buffer.alloc(0),
  invocationId: 'i-1',
  trigger: 'http',
  context: {},
  receivedAt: 0,
};
const info = { name: 'f', version: '1', memoryMb: 128 };

describe('detectStyle', () => {
  it.each([
    ['a default function', { default: () => 1 }, 'web'],
    ['a default { fetch }', { default: { fetch: () => 1 } }, 'web-fetch'],
    ['an exported handler', { handler: () => 1 }, 'lambda'],
    ['a CommonJS module.exports.handler', { default: { handler: () => 1 } }, 'lambda'],
  ])('recognizes %s', (_label, mod, style) => {
    expect(detectStyle(mod)).toBe(style);
  });

  it('throws a message naming the accepted exports when there is no handler', () => {
    expect(() => detectStyle({ something: 1 })).toThrowError(NoHandlerError);
    expect(() => detectStyle({})).toThrowError(/export default a function or \{ fetch \}, or export const handler/);
  });
});

describe('webResultToResponse', () => {
  it('keeps every set-cookie of a Response', async () => {
    const headers = new Headers([
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
      ['x-y', 'z'],
    ]);
    const res = await webResultToResponse(new Response('body', { status: 202, headers }));
    expect(res.status).toBe(202);
    expect(res.headers.filter(([n]) => n === 'set-cookie')).toEqual([
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ]);
    expect(res.body.toString()).toBe('body');
  });

  it.each([
    ['undefined', undefined, 204, ''],
    ['a string', 'hi', 200, 'hi'],
    ['an object', { a: [1] }, 200, '{"a":[1]}'],
  ])('maps %s', async (_label, value, status, body) => {
    const res = await webResultToResponse(value);
    expect(res.status).toBe(status);
    expect(res.body.toString()).toBe(body);
  });
});

describe('adapt', () => {
  it('gives a web handler a Request with the URL, method and headers', async () => {
    const invoke = adapt({ default: (req: Request) => `${req.method} ${req.url} ${req.headers.get('host')}` }, info);
    const res = await invoke(inv, { deadline: Date.now() + 1000 });
    expect(res.body.toString()).toBe('GET http://h/a?x=1 h');
  });

  it('gives a Lambda handler a context with the request id and remaining time', async () => {
    const invoke = adapt(
      {
        handler: async (_e: unknown, ctx: { awsRequestId: string; getRemainingTimeInMillis(): number }) => ({
          id: ctx.awsRequestId,
          left: ctx.getRemainingTimeInMillis() > 500,
        }),
      },
      info,
    );
    const res = await invoke(inv, { deadline: Date.now() + 1000 });
    expect(JSON.parse(res.body.toString())).toEqual({ id: 'i-1', left: true });
  });

  it('supports callback-style Lambda handlers', async () => {
    const invoke = adapt({ handler: (_e: unknown, _c: unknown, cb: (err: unknown, r: unknown) => void) => cb(null, { statusCode: 418, body: 'tea' }) }, info);
    const res = await invoke(inv, { deadline: Date.now() + 1000 });
    expect(res.status).toBe(418);
  });
});

describe('LogTail', () => {
  it('keeps the last bytes and marks what was dropped', () => {
    const tail = new LogTail(16);
    tail.append('first line');
    tail.append('second line');
    tail.append('third');
    const text = tail.text();
    expect(text).toContain('third');
    expect(text).not.toContain('first');
    expect(text.startsWith('[earlier output truncated]')).toBe(true);
  });

  it('keeps short output whole', () => {
    const tail = new LogTail(4096);
    tail.append('a');
    tail.append('b\n');
    expect(tail.text()).toBe('a\nb\n');
  });
});

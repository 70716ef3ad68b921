import { AliasNotFoundError, VersionNotFoundError } from '../../../core/releases.js';
import { describe, expect, it } from 'vitest';
import { deterministicId } from '../../../triggers/job-ids.js';
import {
  encodeHeaderValue,
  classifyError,
  classifyResponse,
  encodeResult,
  formatReason,
  parseReason,
  statusOf,
  toBatchRequest,
  messageOutcomes,
  parseMessageAttributes,
  toInvocationRequest,
  type JobData,
  type JobRun,
} from '../../../triggers/job.js';
import { FunctionNotFoundError, FunctionTimeoutError } from '../../../core/errors.js';
import type { InvocationResponse } from '../../../core/invoker.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const run = (data: Partial<JobData> & Pick<JobData, 'trigger'>, over: Partial<JobRun> = {}): JobRun => ({
  id: 'job-1',
  data: { fn: 'f', acceptedAt: Date.UTC(2026, 10, 24, 10), ...data } as JobData,
  attempt: 2,
  createdAt: Date.UTC(2026, 10, 24, 10, 5),
  ...over,
});

describe('toInvocationRequest', () => {
  it('replays an async HTTP request as it was sent, with the attempt in the context', () => {
    const req = toInvocationRequest(
      run({ trigger: 'async', request: { method: 'PUT', path: '/a/b', rawQuery: 'x=1', headers: { 'content-type': 'text/plain' }, body: b64('hi') } }),
      'f',
      5,
    );
    expect(req).toMatchObject({ invocationId: 'job-1', fn: 'f', trigger: 'async', method: 'PUT', path: '/a/b', rawQuery: 'x=1', receivedAt: 5 });
    expect(req.body.toString()).toBe('hi');
    expect(req.context).toEqual({ attempt: '2' });
  });

  it('posts a queue message with its content type and names the queue', () => {
    const req = toInvocationRequest(run({ trigger: 'queue', message: { queue: 'orders', body: b64('{"id":1}'), contentType: 'application/json' } }), 'f', 0);
    expect(req).toMatchObject({ method: 'POST', path: '/', headers: { 'content-type': 'application/json' } });
    expect(req.context).toEqual({ attempt: '2', queue: 'orders', 'message-id': 'job-1', 'sent-at': '2026-11-24T10:00:00.000Z' });
    const untyped = toInvocationRequest(run({ trigger: 'queue', message: { queue: 'q', body: '' } }), 'f', 0);
    expect(untyped.headers['content-type']).toBe('application/octet-stream');
    expect(untyped.body.length).toBe(0);
  });

  it('delivers an event in CloudEvents binary mode', () => {
    const req = toInvocationRequest(
      run({
        trigger: 'event',
        event: {
          topic: 't',
          attributes: { specversion: '1.0', id: 'e1', source: '/s', type: 'x.y', datacontenttype: 'application/json', tenant: 'a' },
          data: b64('{}'),
        },
      }),
      'f',
      0,
    );
    expect(req.headers).toEqual({
      'ce-specversion': '1.0',
      'ce-id': 'e1',
      'ce-source': '/s',
      'ce-type': 'x.y',
      'content-type': 'application/json',
      'ce-tenant': 'a',
    });
    expect(req.context).toMatchObject({ topic: 't', 'event-id': 'e1' });
  });

  it('posts a cron tick as JSON with its scheduled time', () => {
    const req = toInvocationRequest(run({ trigger: 'cron', schedule: { cron: '*/5 * * * *', timezone: 'Europe/Paris' } }), 'f', 0);
    expect(JSON.parse(req.body.toString())).toEqual({ cron: '*/5 * * * *', timezone: 'Europe/Paris', scheduledAt: '2026-11-24T10:05:00.000Z' });
    expect(req.context).toMatchObject({ schedule: '*/5 * * * *', 'scheduled-at': '2026-11-24T10:05:00.000Z' });
  });

  it("takes a scheduler's tick time from its job id, not the job's timestamp (made at the tick before)", () => {
    const tick = Date.UTC(2026, 10, 24, 10, 10);
    const req = toInvocationRequest(
      run({ trigger: 'cron', schedule: { cron: '*/5 * * * *' } }, { id: `repeat:cron-abc:${tick}`, createdAt: Date.UTC(2026, 10, 24, 10, 5, 0, 40) }),
      'f',
      0,
    );
    expect(req.context).toMatchObject({ 'scheduled-at': '2026-11-24T10:10:00.000Z' });
  });
});

describe('toBatchRequest', () => {
  it('is the single request for one message', () => {
    const one = run({ trigger: 'queue', message: { queue: 'q', body: b64('a') } });
    expect(toBatchRequest([one], 'f', 0)).toEqual(toInvocationRequest(one, 'f', 0));
  });

  it('lists several messages in one JSON body, binary ones in base64', () => {
    const runs = [
      run({ trigger: 'queue', message: { queue: 'q', body: b64('first') } }, { id: 'm1', attempt: 1 }),
      run(
        { trigger: 'queue', message: { queue: 'q', body: Buffer.from([0xff, 0x00]).toString('base64'), contentType: 'application/octet-stream' } },
        { id: 'm2', attempt: 3 },
      ),
    ];
    const req = toBatchRequest(runs, 'f', 0);
    expect(req.context).toMatchObject({ queue: 'q', 'batch-size': '2', 'message-id': 'm1' });
    const { messages } = JSON.parse(req.body.toString());
    expect(messages).toEqual([
      { id: 'm1', body: 'first', bodyEncoding: 'utf8', contentType: 'application/octet-stream', sentAt: '2026-11-24T10:00:00.000Z', attempt: 1 },
      { id: 'm2', body: '/wA=', bodyEncoding: 'base64', contentType: 'application/octet-stream', sentAt: '2026-11-24T10:00:00.000Z', attempt: 3 },
    ]);
  });
});

describe('outcomes', () => {
  it('succeeds on 2xx/3xx, gives up on 4xx, retries 5xx', () => {
    expect(classifyResponse(200)).toEqual({ ok: true });
    expect(classifyResponse(302)).toEqual({ ok: true });
    expect(classifyResponse(404)).toMatchObject({ ok: false, retry: false, code: 'FUNCTION_REJECTED' });
    expect(classifyResponse(503)).toMatchObject({ ok: false, retry: true, code: 'FUNCTION_FAILED' });
  });

  it('retries platform failures but not a deleted function', () => {
    expect(classifyError(new FunctionTimeoutError('slow'))).toEqual({ ok: false, retry: true, code: 'FUNCTION_TIMEOUT', message: 'slow' });
    expect(classifyError(new FunctionNotFoundError('f'))).toMatchObject({ retry: false, code: 'FUNCTION_NOT_FOUND' });
    expect(classifyError(new VersionNotFoundError('f@3 is gone'))).toMatchObject({ retry: false, code: 'VERSION_NOT_FOUND' });
    expect(classifyError(new AliasNotFoundError('no prod'))).toMatchObject({ retry: false, code: 'ALIAS_NOT_FOUND' });
    expect(classifyError(new Error('boom'))).toMatchObject({ retry: true, code: 'INTERNAL', message: 'boom' });
  });

  it('stores a reason as CODE: message and reads it back', () => {
    expect(parseReason(formatReason('FUNCTION_ERROR', 'x: y\nz'))).toEqual({ code: 'FUNCTION_ERROR', message: 'x: y\nz' });
    expect(parseReason('job stalled more than allowable limit')).toEqual({ code: 'FAILED', message: 'job stalled more than allowable limit' });
    expect(parseReason(undefined)).toBeUndefined();
  });

  it('maps job states to API statuses', () => {
    expect(statusOf('waiting', 0)).toBe('queued');
    expect(statusOf('delayed', 0)).toBe('queued');
    expect(statusOf('delayed', 1)).toBe('failed');
    expect(statusOf('waiting', 2)).toBe('failed');
    expect(statusOf('active', 1)).toBe('running');
    expect(statusOf('completed', 1)).toBe('succeeded');
    expect(statusOf('failed', 3)).toBe('dead');
  });
});

describe('encodeResult', () => {
  const response = (body: Buffer) => ({
    status: 201,
    headers: { 'content-type': 'x' },
    body,
    meta: { invocationId: 'i', fn: 'f', version: 1, coldStart: true, queueWaitMs: 0, durationMs: 3.5 },
  });
  it('keeps text as utf8 and binary as base64, cut at the limit', () => {
    expect(encodeResult(response(Buffer.from('héllo')), 100)).toEqual({
      status: 201,
      headers: { 'content-type': 'x' },
      body: 'héllo',
      bodyEncoding: 'utf8',
      durationMs: 3.5,
      coldStart: true,
    });
    expect(encodeResult(response(Buffer.from([0xff, 1])), 100)).toMatchObject({ body: '/wE=', bodyEncoding: 'base64' });
    expect(encodeResult(response(Buffer.from('abcdef')), 3)).toMatchObject({ body: 'abc', truncated: true });
  });
});

describe('deterministicId', () => {
  it('is a UUID-shaped id, the same for the same parts and different otherwise', () => {
    const id = deterministicId('async', 'f', 'key');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deterministicId('async', 'f', 'key')).toBe(id);
    expect(deterministicId('async', 'g', 'key')).not.toBe(id);
    // Parts are separated: ('ab','c') is not ('a','bc').
    expect(deterministicId('ab', 'c')).not.toBe(deterministicId('a', 'bc'));
  });
});

describe('encodeHeaderValue', () => {
  it.each([
    ['order.created', 'order.created'],
    ['日本', '%E6%97%A5%E6%9C%AC'],
    ['a\r\nb', 'a%0D%0Ab'],
    ['50% "off" now', '50%25%20%22off%22%20now'],
  ])('%j → %j, a valid header value that decodes back', (value, encoded) => {
    expect(encodeHeaderValue(value)).toBe(encoded);
    expect(decodeURIComponent(encodeHeaderValue(value))).toBe(value);
  });
});

describe('messageOutcomes', () => {
  const queueRun = (id: string) => run({ trigger: 'queue', message: { queue: 'q', body: b64('x') } }, { id });
  const answer = (body: unknown, type = 'application/json') =>
    ({ status: 200, headers: { 'content-type': type }, body: Buffer.from(JSON.stringify(body)), meta: {} }) as unknown as InvocationResponse;

  it('fails only the messages a successful answer lists in batchItemFailures', () => {
    const runs = [queueRun('a'), queueRun('b'), queueRun('c')];
    const outcomes = messageOutcomes(runs, { ok: true }, answer({ batchItemFailures: [{ itemIdentifier: 'b' }] }));
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    expect(outcomes[1]).toMatchObject({ retry: true, code: 'MESSAGE_FAILED' });
  });

  it('gives every message the call’s outcome otherwise (a failed call, no list, an empty list, not JSON, not a queue)', () => {
    const runs = [queueRun('a'), queueRun('b')];
    const failed = { ok: false as const, retry: true, code: 'FUNCTION_FAILED', message: 'x' };
    expect(messageOutcomes(runs, failed, answer({ batchItemFailures: [{ itemIdentifier: 'a' }] }))).toEqual([failed, failed]);
    expect(messageOutcomes(runs, { ok: true }, answer({ fine: true })).map((o) => o.ok)).toEqual([true, true]);
    expect(messageOutcomes(runs, { ok: true }, answer({ batchItemFailures: [] })).map((o) => o.ok)).toEqual([true, true]);
    expect(messageOutcomes(runs, { ok: true }, answer({ batchItemFailures: [{ itemIdentifier: 'a' }] }, 'text/plain')).map((o) => o.ok)).toEqual([true, true]);
    const asyncRun = run({ trigger: 'async', request: { method: 'GET', path: '/', rawQuery: '', headers: {}, body: '' } });
    expect(messageOutcomes([asyncRun], { ok: true }, answer({ batchItemFailures: [{ itemIdentifier: asyncRun.id }] })).map((o) => o.ok)).toEqual([true]);
  });
});

describe('parseMessageAttributes', () => {
  it('takes a JSON object of strings, keeping the names’ case', () => {
    expect(parseMessageAttributes('{"Author":"ada","priority":"high"}')).toEqual({ attributes: { Author: 'ada', priority: 'high' } });
    expect(parseMessageAttributes(undefined)).toEqual({});
    expect(parseMessageAttributes('{}')).toEqual({});
  });

  it.each([
    ['not JSON', 'priority=high', /JSON object of strings/],
    ['an array', '["a"]', /JSON object of strings/],
    ['a number value', '{"n":1}', /attribute "n" must be a string/],
    ['a bad name', '{"a b":"x"}', /attribute name "a b"/],
    ['eleven attributes', JSON.stringify(Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`a${i}`, 'x']))), /at most 10 attributes/],
  ])('refuses %s with a message saying why', (_label, header, problem) => {
    expect(parseMessageAttributes(header).problem).toMatch(problem);
  });
});

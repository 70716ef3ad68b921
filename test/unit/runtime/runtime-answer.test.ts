// How one invocation's answer is read from undici's dispatch callbacks: whole, streamed with backpressure,
// cut at its size limit or deadline, refused uploads (a fake controller stands in for undici; fake timers).
import type { Dispatcher } from 'undici';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AnswerReader, isStreamed } from '../../../invoker/runtime/runtime-answer.js';
import { RuntimeResponseTooLargeError, RuntimeTimeoutError, RuntimeUploadRefusedError } from '../../../invoker/runtime/runtime-connection.js';

/** undici's side of one request: what the handler asked of it. */
class FakeController {
  aborted: Error | undefined;
  paused = false;
  resumes = 0;
  abort(reason: Error) {
    this.aborted ??= reason;
  }
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
    this.resumes++;
  }
}

/** The fake as undici's DispatchController. */
const as = (c: FakeController) => c as unknown as Dispatcher.DispatchController;

const start = (reader: AnswerReader) => {
  const controller = new FakeController();
  reader.onRequestStart(as(controller));
  return controller;
};
const options = (over: Partial<ConstructorParameters<typeof AnswerReader>[0]> = {}) => ({
  maxBytes: 10,
  deadline: Date.now() + 1_000,
  timeoutMs: 1_000,
  streams: true,
  ...over,
});

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('AnswerReader', () => {
  it('reads a whole answer with its headers and trailers, in one buffer however many chunks', async () => {
    const reader = new AnswerReader(options());
    const c = start(reader);
    reader.onResponseStart(as(c), 200, { 'content-length': '6', 'x-faas-log-result': 'bG9n' });
    reader.onResponseData(as(c), Buffer.from('abc'));
    reader.onResponseData(as(c), Buffer.from('def'));
    reader.onResponseEnd(as(c), { 'x-extra': '1' });
    const answer = await reader.answer;
    expect(answer.kind).toBe('whole');
    expect(answer.status).toBe(200);
    expect(answer.headers['x-faas-log-result']).toBe('bG9n');
    expect(answer.trailers['x-extra']).toBe('1');
    expect((answer.body as Buffer).toString()).toBe('abcdef');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('refuses an answer whose length is past the limit before reading it, and one that grows past it', async () => {
    const declared = new AnswerReader(options());
    const c1 = start(declared);
    declared.onResponseStart(as(c1), 200, { 'content-length': '11' });
    expect(c1.aborted).toBeInstanceOf(RuntimeResponseTooLargeError);
    expect(c1.aborted?.message).toMatch(/11 bytes, more than 10/);

    const growing = new AnswerReader(options({ streams: false }));
    const c2 = start(growing);
    growing.onResponseStart(as(c2), 200, {});
    growing.onResponseData(as(c2), Buffer.alloc(6));
    expect(c2.aborted).toBeUndefined();
    growing.onResponseData(as(c2), Buffer.alloc(6));
    expect(c2.aborted).toBeInstanceOf(RuntimeResponseTooLargeError);
    // undici reports the abort back as the request's error: the answer rejects with it.
    growing.onResponseError(as(c2), c2.aborted!);
    await expect(growing.answer).rejects.toBeInstanceOf(RuntimeResponseTooLargeError);
    declared.onResponseError(as(c1), c1.aborted!);
    await expect(declared.answer).rejects.toBeInstanceOf(RuntimeResponseTooLargeError);
  });

  it('reads and drops the answer to a refused upload, then says so', async () => {
    const reader = new AnswerReader(options());
    const c = start(reader);
    reader.onResponseStart(as(c), 413, { 'content-length': '8', 'x-faas-error': 'too-large' });
    reader.onResponseData(as(c), Buffer.alloc(8));
    expect(c.aborted).toBeUndefined();
    reader.onResponseEnd(as(c), {});
    await expect(reader.answer).rejects.toBeInstanceOf(RuntimeUploadRefusedError);
  });

  it('hands over a streamed answer at its headers, pauses undici while the reader lags, and ends with the trailers', async () => {
    const reader = new AnswerReader(options());
    const c = start(reader);
    reader.onResponseStart(as(c), 200, { 'content-type': 'text/event-stream' });
    const answer = await reader.answer;
    expect(answer.kind).toBe('stream');
    const body = answer.body as import('node:stream').Readable;
    // Nobody reads yet: past the stream's buffer, undici is asked to pause the connection.
    for (let i = 0; i < 16 && !c.paused; i++) reader.onResponseData(as(c), Buffer.alloc(8 * 1024));
    expect(c.paused).toBe(true);
    const got: Buffer[] = [];
    body.on('data', (chunk: Buffer) => got.push(chunk));
    await vi.advanceTimersByTimeAsync(0);
    expect(c.resumes).toBeGreaterThan(0);
    reader.onResponseEnd(as(c), { 'x-faas-log-result': 'ZW5k' });
    await new Promise((resolve) => body.once('end', resolve));
    expect(answer.trailers['x-faas-log-result']).toBe('ZW5k');
    expect(Buffer.concat(got).length).toBe(got.length * 8 * 1024);
    // Read to its end: destroying it now cuts nothing.
    body.destroy();
    expect(c.aborted).toBeUndefined();
  });

  it('cuts the call when the caller destroys a stream before its end', async () => {
    const reader = new AnswerReader(options());
    const c = start(reader);
    reader.onResponseStart(as(c), 200, {});
    const body = (await reader.answer).body as import('node:stream').Readable;
    body.on('error', () => {});
    body.destroy();
    expect(c.aborted?.message).toMatch(/went away/);
  });

  it('only a whole answer is bounded by the deadline; a streamed one is relayed past it (its relay has its own)', async () => {
    const reader = new AnswerReader(options({ deadline: Date.now() + 100, timeoutMs: 100 }));
    const c = start(reader);
    reader.onResponseStart(as(c), 200, { 'content-length': '4' });
    reader.onResponseData(as(c), Buffer.from('ab'));
    await vi.advanceTimersByTimeAsync(100);
    expect(c.aborted).toBeInstanceOf(RuntimeTimeoutError);
    expect(c.aborted?.message).toBe('no complete answer within 100 ms');

    const streamed = new AnswerReader(options({ deadline: Date.now() + 100, timeoutMs: 100 }));
    const c2 = start(streamed);
    streamed.onResponseStart(as(c2), 200, {});
    await vi.advanceTimersByTimeAsync(1_000);
    expect(c2.aborted).toBeUndefined();
  });

  it('rejects at the deadline while it waits for a connection, and cuts the request once undici hands it over', async () => {
    const reader = new AnswerReader(options({ deadline: Date.now() + 50, timeoutMs: 50 }));
    const settled = reader.answer.then(
      () => 'answered',
      (err: Error) => err,
    );
    await vi.advanceTimersByTimeAsync(50);
    expect(await settled).toBeInstanceOf(RuntimeTimeoutError);
    const c = start(reader);
    expect(c.aborted).toBeInstanceOf(RuntimeTimeoutError);
  });

  it("a streamed answer's body never throws an error nobody listens to yet", async () => {
    const reader = new AnswerReader(options());
    const c = start(reader);
    reader.onResponseStart(as(c), 200, {});
    // The connection breaks before the relay attached its listener: no uncaught 'error'.
    reader.onResponseError(as(c), new Error('socket hang up'));
    const body = (await reader.answer).body as import('node:stream').Readable;
    await vi.advanceTimersByTimeAsync(0);
    expect(body.destroyed).toBe(true);
  });

  it('streams what has neither a length nor a failure header, as the runtime protocol says', () => {
    expect(isStreamed({})).toBe(true);
    expect(isStreamed({ 'content-length': '0' })).toBe(false);
    expect(isStreamed({ 'x-faas-error': 'handler' })).toBe(false);
  });
});

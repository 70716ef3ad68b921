// The async workers' thread (threaded-dispatcher.ts): an AsyncDispatcher with its own Redis connections,
// and registry, whose invocations (the quota check included) run on the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { connectRedis } from '../platform/redis-connection.js';
import { pino } from 'pino';
import { RemoteFaasError } from '../core/errors.js';
import type { InvocationEvents, InvocationFinished, InvocationRequest, InvocationResponse, Invoker } from '../core/invoker.js';
import { RedisFunctionRegistry } from '../registry/redis-function-registry.js';
import { AsyncDispatcher } from './dispatcher.js';
import type { DispatcherThreadData, FromDispatcherThread, ToDispatcherThread } from './threaded-dispatcher.js';

if (parentPort) {
  const port = parentPort;
  const data = workerData as DispatcherThreadData;
  const post = (message: FromDispatcherThread, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  const log = pino({ level: data.logLevel }).child({ component: 'async' });

  const pending = new Map<number, { resolve(r: InvocationResponse): void; reject(err: Error): void }>();
  let nextId = 0;
  const finishedListeners = new Set<(event: InvocationFinished) => void>();

  /** The main thread's invoker, one message away. */
  const invoker: Invoker = {
    invoke(request: InvocationRequest): Promise<InvocationResponse> {
      const id = (nextId += 1);
      const body = new Uint8Array(request.body);
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        // Async jobs carry whole bodies (kept in Redis): there is never a stream to send.
        const { bodyStream, ...rest } = request;
        if (bodyStream) return reject(new Error('an async invocation has no streamed body'));
        post({ type: 'invoke', id, request: { ...rest, body } });
      });
    },
    containerCounts: () => Promise.reject(new Error('not available in the async workers thread')),
    containerList: () => Promise.reject(new Error('not available in the async workers thread')),
    close: async () => {},
  };
  const events: InvocationEvents = {
    onInvocationFinished(listener) {
      finishedListeners.add(listener);
      return () => finishedListeners.delete(listener);
    },
  };

  const redis = connectRedis(data.redis, { enableAutoPipelining: true, maxRetriesPerRequest: null });
  // BullMQ's, not auto-pipelined (see the jobs connection in platform/start-platform.ts).
  const bull = connectRedis(data.redis, { enableAutoPipelining: false, maxRetriesPerRequest: null });
  for (const connection of [redis, bull]) connection.on('error', () => {}); // BullMQ and the retries report outages
  let dispatcher: AsyncDispatcher | undefined;
  let registry: RedisFunctionRegistry | undefined;

  port.on('message', (message: ToDispatcherThread) => {
    if (message.type === 'reply') {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (!waiter) return;
      if ('error' in message) waiter.reject(new RemoteFaasError(message.error.code, message.error.status, message.error.message));
      else
        waiter.resolve({
          ...message.response,
          body: Buffer.from(message.response.body.buffer, message.response.body.byteOffset, message.response.body.byteLength),
        });
    } else if (message.type === 'finished') {
      for (const listener of finishedListeners) listener(message.event);
    } else {
      void (async () => {
        // Closing: no new jobs; running ones finish (their answers still arrive); then the connections go.
        await dispatcher?.close().catch((err: Error) => log.warn({ err: err.message }, 'async workers not closed cleanly'));
        await registry?.close().catch(() => {});
        for (const connection of [redis, bull]) {
          connection.options.maxRetriesPerRequest = 0;
          connection.disconnect();
        }
        post({ type: 'closed' });
        port.close();
      })();
    }
  });

  void (async () => {
    try {
      registry = await RedisFunctionRegistry.open({ redis, prefix: data.redisPrefix });
      dispatcher = new AsyncDispatcher({
        connection: bull,
        redisPrefix: data.redisPrefix,
        registry,
        invoker,
        events,
        stallMs: data.stallMs,
        slots: data.slots,
        maxResultBytes: data.maxResultBytes,
        callbackAllowLocal: data.callbackAllowLocal,
        log,
      });
      dispatcher.onRetry((fn) => post({ type: 'retry', fn }));
      await dispatcher.start();
      post({ type: 'ready' });
    } catch (err) {
      post({ type: 'failed', message: (err as Error).message });
    }
  })();
}

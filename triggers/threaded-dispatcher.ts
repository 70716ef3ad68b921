// The async workers off the HTTP event loop: the AsyncDispatcher (BullMQ workers, their Redis traffic, job
// results, callbacks) runs in a worker thread of its own, and only the invocations themselves come back to
// this thread's invoker, which owns the containers. Nothing changes for a job: it is run, retried and
// dead-lettered as before, and one that was running when the process died runs again after its lock lapses.
import type { Worker } from 'node:worker_threads';
import { FaasError } from '../core/errors.js';
import type { InvocationEvents, InvocationFinished, InvocationRequest, InvocationResponse, Invoker } from '../core/invoker.js';
import { startWorkerThread } from '../core/worker-thread.js';
import type { RedisTarget } from '../platform/redis-connection.js';
import type { SlotPolicy } from './worker-slots.js';

/** What the thread needs to build its own dispatcher: its Redis connections, registry and quota guard. */
export interface DispatcherThreadData {
  redis: RedisTarget;
  redisPrefix: string;
  stallMs: number;
  slots: SlotPolicy;
  maxResultBytes: number;
  callbackAllowLocal: boolean;
  logLevel: string;
}

/** A request or answer as it crosses threads (structured clone turns Buffers into Uint8Arrays). */
export type WireRequest = Omit<InvocationRequest, 'body' | 'bodyStream'> & { body: Uint8Array };
export type WireResponse = Omit<InvocationResponse, 'body' | 'stream'> & { body: Uint8Array };

/** From the thread: run an invocation, a retry started (metrics), ready, closed. */
export type FromDispatcherThread =
  | { type: 'invoke'; id: number; request: WireRequest }
  | { type: 'retry'; fn: string }
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'closed' };

/** To the thread: an invocation's answer or error, a finished invocation (for job logs), close. */
export type ToDispatcherThread =
  | { type: 'reply'; id: number; response: WireResponse }
  | { type: 'reply'; id: number; error: { code: string; status: number; message: string } }
  | { type: 'finished'; event: InvocationFinished }
  | { type: 'close' };

export interface ThreadedDispatcherOptions extends DispatcherThreadData {
  invoker: Invoker;
  events: InvocationEvents;
  /** Throws QuotaExceededError past the tenant's quota: checked here, by the process's one quota guard, before each run. */
  admit?: (fn: string) => void;
  onError?: (err: Error) => void;
}

export class ThreadedDispatcher {
  private thread: Worker | undefined;
  private readonly retryListeners = new Set<(fn: string) => void>();
  private detach: (() => void) | undefined;
  private closed: Promise<void> | undefined;

  constructor(private readonly options: ThreadedDispatcherOptions) {}

  /** Starts the thread; resolves once its workers run. */
  async start(): Promise<void> {
    const { invoker, events, onError, admit, ...data } = this.options;
    const thread = startWorkerThread(import.meta.url, 'dispatcher-thread', data satisfies DispatcherThreadData);
    this.thread = thread;
    // A thread that stopped (or crashed) is not waited for at close.
    thread.once('exit', () => {
      if (this.thread === thread) this.thread = undefined;
    });
    const post = (message: ToDispatcherThread, transfer: ArrayBuffer[] = []) => thread.postMessage(message, transfer);
    // Job logs hold each run's console output: the thread hears of every non-HTTP invocation's end.
    this.detach = events.onInvocationFinished((event) => {
      if (event.trigger !== 'http') post({ type: 'finished', event });
    });
    const ready = new Promise<void>((resolve, reject) => {
      thread.on('message', (message: FromDispatcherThread) => {
        switch (message.type) {
          case 'invoke':
            // The quota is checked by this process's guard, right before the run, as for inline workers.
            Promise.resolve()
              .then(() => admit?.(message.request.fn))
              .then(() =>
                invoker.invoke({
                  ...message.request,
                  body: Buffer.from(message.request.body.buffer, message.request.body.byteOffset, message.request.body.byteLength),
                }),
              )
              .then(
                (response) => {
                  const body = new Uint8Array(response.body);
                  post({ type: 'reply', id: message.id, response: { status: response.status, headers: response.headers, meta: response.meta, body } }, [
                    body.buffer,
                  ]);
                },
                (err: Error) => {
                  const error =
                    err instanceof FaasError
                      ? { code: err.code, status: err.status, message: err.message }
                      : { code: 'INTERNAL', status: 500, message: err.message };
                  post({ type: 'reply', id: message.id, error });
                },
              );
            return;
          case 'retry':
            for (const listener of this.retryListeners) listener(message.fn);
            return;
          case 'ready':
            return resolve();
          case 'failed':
            return reject(new Error(`async workers did not start: ${message.message}`));
          case 'closed':
            return;
        }
      });
      thread.once('error', reject);
      thread.once('exit', (code) => reject(new Error(`the async workers thread exited (code ${code}) before it was ready`)));
    });
    thread.on('error', (err) => onError?.(err));
    await ready;
  }

  /** Retries as they start, for the metrics. */
  onRetry(listener: (fn: string) => void): () => void {
    this.retryListeners.add(listener);
    return () => this.retryListeners.delete(listener);
  }

  /** Stops taking jobs and waits for the running ones (their invocations still run here), then the thread. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      const thread = this.thread;
      if (!thread) return;
      const exited = new Promise((resolve) => thread.once('exit', resolve));
      thread.postMessage({ type: 'close' } satisfies ToDispatcherThread);
      await exited;
      this.detach?.();
    })();
    return this.closed;
  }
}

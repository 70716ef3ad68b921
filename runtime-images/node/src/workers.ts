// Cloudflare Workers module syntax: `export default { fetch(request, env, ctx), scheduled(controller, env, ctx),
// queue(batch, env, ctx) }`. env holds the function's variables; ctx.waitUntil's work finishes (and is billed)
// before the call ends, since the container is frozen as soon as it does.
import type { BatchedMessage } from '../protocol.js';
import type { IncomingInvocation, PlainResponse } from './lambda.js';

/** A Workers handler's env: the function's variables and secrets, and its bindings (KV namespaces, queue producers). */
export type WorkersEnv = Record<string, unknown>;

export interface WorkersModule {
  fetch?: (request: Request, env: WorkersEnv, ctx: ExecutionContext) => unknown;
  scheduled?: (controller: ScheduledController, env: WorkersEnv, ctx: ExecutionContext) => unknown;
  queue?: (batch: MessageBatch, env: WorkersEnv, ctx: ExecutionContext) => unknown;
}

export interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
  props: Record<string, unknown>;
}

export interface ScheduledController {
  scheduledTime: number;
  cron: string;
  type: 'scheduled';
  noRetry(): void;
}

export interface QueueMessage {
  id: string;
  timestamp: Date;
  body: unknown;
  attempts: number;
  ack(): void;
  retry(): void;
}

export interface MessageBatch {
  queue: string;
  messages: QueueMessage[];
  ackAll(): void;
  retryAll(): void;
}

export const isWorkersModule = (value: unknown): value is WorkersModule =>
  typeof value === 'object' && value !== null && ['fetch', 'scheduled', 'queue'].some((name) => typeof (value as Record<string, unknown>)[name] === 'function');

/** A ctx for one call, and the wait for the work handed to waitUntil. */
export function executionContext(): { ctx: ExecutionContext; settled(): Promise<void> } {
  const pending: Array<Promise<unknown>> = [];
  return {
    ctx: {
      waitUntil: (promise) => {
        pending.push(Promise.resolve(promise).catch((err) => console.error('waitUntil:', err)));
      },
      passThroughOnException: () => {},
      props: {},
    },
    async settled() {
      // Work may hand more work to waitUntil: wait until none is left.
      for (let seen = 0; seen < pending.length; seen = pending.length) await Promise.all(pending.slice(seen));
    },
  };
}

const header = (inv: IncomingInvocation, name: string): string | undefined => {
  const value = inv.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** A message body as Workers gives it: parsed JSON, text, or bytes. */
function decodeBody(bytes: Buffer, contentType: string | undefined): unknown {
  if (contentType && /json/i.test(contentType)) {
    try {
      return JSON.parse(bytes.toString('utf8'));
    } catch {
      // Not JSON after all: as text.
    }
  }
  if (!contentType || /^text\//i.test(contentType) || /json/i.test(contentType)) return bytes.toString('utf8');
  return new Uint8Array(bytes);
}

/** The messages of a queue invocation (one, or a batch), with the ids the platform retries by. */
export function messagesOf(inv: IncomingInvocation): Array<{ id: string; body: unknown; timestamp: Date; attempts: number }> {
  const context = inv.context;
  if (context['batch-size']) {
    const { messages } = JSON.parse(inv.body.toString('utf8')) as { messages: BatchedMessage[] };
    return messages.map((m) => ({
      id: m.id,
      body: decodeBody(Buffer.from(m.body, m.bodyEncoding === 'base64' ? 'base64' : 'utf8'), m.contentType),
      timestamp: new Date(m.sentAt),
      attempts: m.attempt,
    }));
  }
  return [
    {
      id: context['message-id'] ?? inv.invocationId,
      body: decodeBody(inv.body, header(inv, 'content-type')),
      timestamp: new Date(context['sent-at'] ?? inv.receivedAt),
      attempts: Number(context.attempt ?? 1),
    },
  ];
}

/**
 * Runs `queue(batch, env, ctx)`. Messages are acknowledged unless retried (message.retry(), batch.retryAll());
 * the retried ones are answered as SQS's partial batch response (`batchItemFailures`), which the platform
 * retries one by one. A queue() that throws fails (and retries) the whole batch.
 */
export async function runQueue(mod: WorkersModule, inv: IncomingInvocation, env: WorkersEnv): Promise<PlainResponse> {
  const retried = new Set<string>();
  const acked = new Set<string>();
  const messages: QueueMessage[] = messagesOf(inv).map((m) => ({
    ...m,
    ack: () => {
      acked.add(m.id);
      retried.delete(m.id);
    },
    retry: () => {
      retried.add(m.id);
      acked.delete(m.id);
    },
  }));
  const batch: MessageBatch = {
    queue: inv.context.queue ?? '',
    messages,
    ackAll: () => {
      for (const m of messages) m.ack();
    },
    retryAll: () => {
      for (const m of messages) m.retry();
    },
  };
  const { ctx, settled } = executionContext();
  await mod.queue!(batch, env, ctx);
  await settled();
  const body = JSON.stringify({ batchItemFailures: [...retried].map((itemIdentifier) => ({ itemIdentifier })) });
  return { status: 200, headers: [['content-type', 'application/json']], body: Buffer.from(body) };
}

/** Runs `scheduled(controller, env, ctx)` for a cron tick; noRetry() makes a failure final. */
export async function runScheduled(mod: WorkersModule, inv: IncomingInvocation, env: WorkersEnv): Promise<PlainResponse> {
  let retry = true;
  const controller: ScheduledController = {
    scheduledTime: Date.parse(inv.context['scheduled-at'] ?? '') || inv.receivedAt,
    cron: inv.context.schedule ?? '',
    type: 'scheduled',
    noRetry: () => {
      retry = false;
    },
  };
  const { ctx, settled } = executionContext();
  try {
    await mod.scheduled!(controller, env, ctx);
  } catch (err) {
    await settled();
    // A failure is retried as any handler's; after noRetry() it is final (4xx: dead-lettered at once).
    if (retry) throw err;
    console.error('scheduled() failed:', err);
    return { status: 422, headers: [['content-type', 'text/plain; charset=utf-8']], body: Buffer.from(err instanceof Error ? err.message : String(err)) };
  }
  await settled();
  return { status: 204, headers: [], body: Buffer.alloc(0) };
}

/** What a module without the handler a trigger needs answers. */
export function missingHandler(name: string, trigger: string): PlainResponse {
  return {
    status: 501,
    headers: [['content-type', 'text/plain; charset=utf-8']],
    body: Buffer.from(`the module's default export has no ${name}() handler for ${trigger} calls`),
  };
}

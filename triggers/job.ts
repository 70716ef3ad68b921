// What an async job carries, how it becomes an invocation, and how its outcome is judged. Pure: the
// trigger shapes, retry decisions and statuses are unit-tested without Redis.
import { FaasError } from '../core/errors.js';
import type { InvocationRequest, InvocationResponse, TriggerKind } from '../core/invoker.js';
import type { BatchedMessage } from '../runtime-images/node/protocol.js';

export type AsyncTrigger = Exclude<TriggerKind, 'http'>;

/** An HTTP request kept for later (`POST /async/fn/:name`); body base64. */
export interface StoredRequest {
  method: string;
  path: string;
  rawQuery: string;
  headers: Record<string, string | string[]>;
  body: string;
}

/** A message sent to a named queue; body base64. */
export interface QueueMessage {
  queue: string;
  body: string;
  contentType?: string;
  /** SQS-like message attributes (string values), sent in the Message-Attributes header. */
  attributes?: Record<string, string>;
}

/** At most this many attributes per message, as SQS. */
export const MAX_MESSAGE_ATTRIBUTES = 10;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,256}$/;

/** Parses a Message-Attributes header (a JSON object of string values); a problem is a message for a 400. */
export function parseMessageAttributes(header: string | undefined): { attributes?: Record<string, string>; problem?: string } {
  if (header === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(header);
  } catch {
    return { problem: 'Message-Attributes must be a JSON object of strings, e.g. {"priority":"high"}' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return { problem: 'Message-Attributes must be a JSON object of strings, e.g. {"priority":"high"}' };
  const entries = Object.entries(parsed);
  if (entries.length > MAX_MESSAGE_ATTRIBUTES) return { problem: `a message has at most ${MAX_MESSAGE_ATTRIBUTES} attributes; this one has ${entries.length}` };
  for (const [name, value] of entries) {
    if (!ATTRIBUTE_NAME.test(name)) return { problem: `attribute name "${name}" must be 1–256 letters, digits, dots, dashes or underscores` };
    if (typeof value !== 'string') return { problem: `attribute "${name}" must be a string` };
  }
  return entries.length ? { attributes: Object.fromEntries(entries) as Record<string, string> } : {};
}

/** CloudEvents 1.0 context attributes (required, optional and extensions), all as strings. */
export type CloudEventAttributes = { specversion: '1.0'; id: string; source: string; type: string } & Record<string, string>;

/** One subscriber's copy of an event; data base64. */
export interface EventDelivery {
  topic: string;
  attributes: CloudEventAttributes;
  data: string;
}

interface JobBase {
  /** The function it was submitted for (for queue messages: the queue's consumer when sent). */
  fn: string;
  /**
   * The version or alias an async call named (`/async/fn/<name>@<qualifier>`), resolved when the job runs: a
   * version stays that version; an alias is followed as it is then (a rollback takes the backlog with it).
   * Absent: the default alias (async calls) or the function's trigger alias (queues, topics, cron).
   */
  qualifier?: string;
  /** Epoch ms the platform accepted it; a job older than the function's maxEventAge is not run. */
  acceptedAt: number;
  /** POSTed the result (or the final error) when the job is done. */
  callbackUrl?: string;
  /**
   * With an Idempotency-Key: sha256 of the request it was first sent with (requestFingerprint). The same
   * key with another request is refused (422 IDEMPOTENCY_KEY_REUSED).
   */
  idempotencyFingerprint?: string;
  /** With an Idempotency-Key: which of two identical submissions at once stored the job (queued-bytes counting). */
  acceptToken?: string;
}

/** What an async job carries, by trigger: each kind has exactly its own payload. */
export type JobData =
  | (JobBase & { trigger: 'async'; request: StoredRequest })
  | (JobBase & { trigger: 'queue'; message: QueueMessage })
  | (JobBase & { trigger: 'event'; event: EventDelivery })
  | (JobBase & { trigger: 'cron'; schedule: { cron: string; timezone?: string } });

/**
 * Bytes of caller data a job keeps in Redis until it has run: the body of an async call, queue message or
 * event (decoded size; a cron tick carries none). Counted against the tenant's queued-bytes limit when
 * accepted and released when it succeeds, so both sides must use this one measure.
 */
export function queuedBytesOf(data: JobData): number {
  switch (data.trigger) {
    case 'async':
      return Buffer.byteLength(data.request.body, 'base64');
    case 'queue':
      return Buffer.byteLength(data.message.body, 'base64');
    case 'event':
      return Buffer.byteLength(data.event.data, 'base64');
    case 'cron':
      return 0;
  }
}

/** A queue message's job. */
export type QueueJobData = Extract<JobData, { trigger: 'queue' }>;

/** What the processor knows about one run of a job. */
export interface JobRun<D extends JobData = JobData> {
  id: string;
  data: D;
  /** 1 for the first run. */
  attempt: number;
  /** Epoch ms the job was created (for cron: the tick's job). */
  createdAt: number;
}

const EMPTY = Buffer.alloc(0);
const b64 = (text: string | undefined): Buffer => (text ? Buffer.from(text, 'base64') : EMPTY);

function base(run: JobRun, fn: string, now: number): Omit<InvocationRequest, 'method' | 'path' | 'rawQuery' | 'headers' | 'body'> {
  const qualifier = run.data.qualifier;
  return {
    invocationId: run.id,
    fn,
    ...(qualifier ? { qualifier } : {}),
    trigger: run.data.trigger,
    receivedAt: now,
    context: { attempt: String(run.attempt) },
  };
}

/**
 * The invocation one job becomes. Async calls replay their HTTP request; the others are a POST to '/':
 * a queue message with its own content type, an event in CloudEvents binary mode (ce-* headers), a cron
 * tick as JSON. The runtime shows the context to the function as x-faas-* headers (and builds
 * SQS/EventBridge-like events for Lambda-style handlers from them).
 */
export function toInvocationRequest(run: JobRun, fn: string, now: number): InvocationRequest {
  const data = run.data;
  const context: Record<string, string> = { attempt: String(run.attempt) };
  const request = { ...base(run, fn, now), context };
  switch (data.trigger) {
    case 'async': {
      const stored = data.request;
      return { ...request, method: stored.method, path: stored.path, rawQuery: stored.rawQuery, headers: stored.headers, body: b64(stored.body) };
    }
    case 'queue': {
      const message = data.message;
      context.queue = message.queue;
      context['message-id'] = run.id;
      if (message.attributes) context.attributes = encodeHeaderValue(JSON.stringify(message.attributes));
      context['sent-at'] = new Date(data.acceptedAt).toISOString();
      const headers = { 'content-type': message.contentType ?? 'application/octet-stream' };
      return { ...request, method: 'POST', path: '/', rawQuery: '', headers, body: b64(message.body) };
    }
    case 'event': {
      const event = data.event;
      context.topic = event.topic;
      context['event-id'] = encodeHeaderValue(event.attributes.id);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(event.attributes)) {
        if (name === 'datacontenttype') headers['content-type'] = encodeHeaderValue(value);
        else headers[`ce-${name}`] = encodeHeaderValue(value);
      }
      return { ...request, method: 'POST', path: '/', rawQuery: '', headers, body: b64(event.data) };
    }
    case 'cron': {
      const schedule = data.schedule;
      const scheduledAt = new Date(tickTimeOf(run)).toISOString();
      context.schedule = schedule.cron;
      context['scheduled-at'] = scheduledAt;
      const body = Buffer.from(JSON.stringify({ cron: schedule.cron, timezone: schedule.timezone ?? 'UTC', scheduledAt }));
      return { ...request, method: 'POST', path: '/', rawQuery: '', headers: { 'content-type': 'application/json' }, body };
    }
  }
}

/**
 * When a cron run was due: the tick time BullMQ's job scheduler writes at the end of the job's id
 * (`repeat:<scheduler>:<epoch ms>`) — the job's own timestamp is when the scheduler made it, at the previous
 * tick — else the time the job became due.
 */
export function tickTimeOf(run: Pick<JobRun, 'id' | 'createdAt'>): number {
  const tick = /^repeat:.*:(\d{10,})$/.exec(run.id);
  return tick ? Number(tick[1]) : run.createdAt;
}

/** Several queue messages in one invocation: a JSON body listing them, with the batch size in the context. */
export const isQueueRun = (run: JobRun): run is JobRun<QueueJobData> => run.data.trigger === 'queue';

export function toBatchRequest(all: JobRun[], fn: string, now: number): InvocationRequest {
  if (all.length === 1) return toInvocationRequest(all[0]!, fn, now);
  const runs = all.filter(isQueueRun);
  // Only a queue's consumer takes batches (batchSize applies to queue messages).
  if (runs.length !== all.length || runs.length === 0) throw new Error('a batch holds queue messages only');
  const first = runs[0]!;
  const messages: BatchedMessage[] = runs.map((run) => {
    const body = b64(run.data.message.body);
    const text = body.toString('utf8');
    const utf8 = Buffer.from(text, 'utf8').equals(body);
    return {
      id: run.id,
      body: utf8 ? text : body.toString('base64'),
      bodyEncoding: utf8 ? 'utf8' : 'base64',
      contentType: run.data.message.contentType ?? 'application/octet-stream',
      sentAt: new Date(run.data.acceptedAt).toISOString(),
      ...(run.data.message.attributes ? { attributes: run.data.message.attributes } : {}),
      attempt: run.attempt,
    };
  });
  const context: Record<string, string> = {
    attempt: String(first.attempt),
    queue: first.data.message.queue,
    'batch-size': String(runs.length),
    'message-id': first.id,
  };
  const request = { ...base(first, fn, now), context };
  const body = Buffer.from(JSON.stringify({ messages }));
  return { ...request, method: 'POST', path: '/', rawQuery: '', headers: { 'content-type': 'application/json' }, body };
}

/** A function's answer, kept as the job's result. */
export interface StoredResult {
  status: number;
  headers: Record<string, string | string[]>;
  body: string;
  bodyEncoding: 'utf8' | 'base64';
  /** The body was longer than the kept maximum and was cut. */
  truncated?: boolean;
  durationMs: number;
  coldStart: boolean;
  /** The successful run's log line (attempt, status, console output); the API lists it with the logs. */
  log?: string;
}

export function encodeResult(response: InvocationResponse, maxBodyBytes: number): StoredResult {
  const truncated = response.body.length > maxBodyBytes;
  const body = truncated ? response.body.subarray(0, maxBodyBytes) : response.body;
  const text = body.toString('utf8');
  const utf8 = Buffer.from(text, 'utf8').equals(body);
  return {
    status: response.status,
    headers: response.headers,
    body: utf8 ? text : body.toString('base64'),
    bodyEncoding: utf8 ? 'utf8' : 'base64',
    ...(truncated ? { truncated } : {}),
    durationMs: response.meta.durationMs,
    coldStart: response.meta.coldStart,
  };
}

/** How a run ended: done, or failed and worth another attempt or not. */
export type Outcome = { ok: true } | { ok: false; retry: boolean; code: string; message: string };

/**
 * 2xx and 3xx are success. A 4xx answer is the function rejecting its input: another attempt would get
 * the same, so it is dead-lettered at once. A 5xx answer or a platform failure (timeout, out of memory,
 * crash, no capacity) is retried. A function, version or alias deleted meanwhile is not.
 */
export function classifyResponse(status: number): Outcome {
  if (status < 400) return { ok: true };
  if (status < 500) return { ok: false, retry: false, code: 'FUNCTION_REJECTED', message: `the function answered ${status}` };
  return { ok: false, retry: true, code: 'FUNCTION_FAILED', message: `the function answered ${status}` };
}

/** Failures another attempt would meet again: the function, version or alias is gone, or its result fits no contract. */
const FINAL_CODES = new Set(['FUNCTION_NOT_FOUND', 'VERSION_NOT_FOUND', 'ALIAS_NOT_FOUND', 'BAD_FUNCTION_RESULT']);

export function classifyError(err: unknown): Outcome & { ok: false } {
  if (err instanceof FaasError) return { ok: false, retry: !FINAL_CODES.has(err.code), code: err.code, message: err.message };
  return { ok: false, retry: true, code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

/** Failure reasons are stored as "CODE: message" and read back apart. */
export const formatReason = (code: string, message: string): string => `${code}: ${message}`;

export function parseReason(reason: string | undefined): { code: string; message: string } | undefined {
  if (!reason) return undefined;
  const match = /^([A-Z][A-Z0-9_]+): ([\s\S]*)$/.exec(reason);
  return match ? { code: match[1]!, message: match[2]! } : { code: 'FAILED', message: reason };
}

/** The statuses the API reports. 'failed': an attempt failed and another is due; 'dead': no attempt left. */
export type AsyncStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'dead';

/** Maps a BullMQ job state and its failed attempts so far to the API's status. */
export function statusOf(state: string, attemptsMade: number): AsyncStatus {
  switch (state) {
    case 'completed':
      return 'succeeded';
    case 'failed':
      return 'dead';
    case 'active':
      return 'running';
    default:
      return attemptsMade > 0 ? 'failed' : 'queued';
  }
}

/**
 * A CloudEvents attribute as an HTTP header value (binary content mode, §3.1.3.2): percent-encoded outside
 * printable ASCII and for space, '"' and '%', so non-ASCII text or a CR/LF in an attribute can never make
 * the header invalid (undici refuses such a header, and the call failed as a crash).
 */
export function encodeHeaderValue(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    out += byte > 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The ids a queue handler reported as failed, in SQS's partial batch response (`{ batchItemFailures: [{ itemIdentifier }] }`). */
function batchItemFailures(response: InvocationResponse): Set<string> | undefined {
  const type = response.headers['content-type'];
  if (typeof type !== 'string' || !/json/i.test(type) || response.body.length > 1024 * 1024) return undefined;
  try {
    const parsed = JSON.parse(response.body.toString('utf8')) as { batchItemFailures?: unknown };
    if (!Array.isArray(parsed.batchItemFailures)) return undefined;
    return new Set(parsed.batchItemFailures.map((f: { itemIdentifier?: unknown }) => String(f?.itemIdentifier)));
  } catch {
    return undefined;
  }
}

/**
 * Each message's outcome of one queue invocation: all share the call's outcome, except that a successful
 * answer listing `batchItemFailures` (Workers' message.retry(), Lambda's partial batch response) fails just
 * those messages, which are retried on their own.
 */
export function messageOutcomes(runs: readonly JobRun[], outcome: Outcome, response: InvocationResponse | undefined): Outcome[] {
  if (!outcome.ok || !response || !runs.every(isQueueRun)) return runs.map(() => outcome);
  const failed = batchItemFailures(response);
  if (!failed?.size) return runs.map(() => outcome);
  return runs.map((run) =>
    failed.has(run.id)
      ? { ok: false, retry: true, code: 'MESSAGE_FAILED', message: 'the function reported this message as failed (batchItemFailures)' }
      : outcome,
  );
}

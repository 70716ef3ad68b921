// What names async work in BullMQ: each function's and each named queue's queue, the job ids the platform
// hands out (random, or the same for the same parts), and what tells one request from another under an
// Idempotency-Key. Pure: no Redis.
import { createHash } from 'node:crypto';

export const functionQueueName = (fn: string): string => `fn.${fn}`;
export const messageQueueName = (queue: string): string => `q.${queue}`;
export const bullPrefix = (redisPrefix: string): string => `${redisPrefix}bull`;

/** A job id the same for the same parts: a repeated submission finds the first job instead of adding one. */
export function deterministicId(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\0')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The shape of every job id the platform hands out: a random UUID (v4), a deterministicId (v5 shape),
 * or a cron tick of a scheduler named `cron-<13 chars of a deterministicId>` (BullMQ names those
 * `repeat:<scheduler>:<epoch ms>`). Nothing else may reach BullMQ as a job id: its own keys sit next to
 * the jobs' (`<prefix>:<queue>:meta`, `:id`, `:events`, ...).
 */
export const JOB_ID_PATTERN = '^(?:[0-9a-f]{8}-[0-9a-f]{4}-[45][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}|repeat:cron-[0-9a-f]{8}-[0-9a-f]{4}:[0-9]{1,16})$';
const JOB_ID = new RegExp(JOB_ID_PATTERN);
export const isJobId = (id: string): boolean => JOB_ID.test(id);

/** What a request is, for telling a repeated request from another one under the same Idempotency-Key. */
export interface FingerprintedRequest {
  method: string;
  path: string;
  /** Raw query string without '?'. */
  query: string;
  contentType?: string | undefined;
  body: Buffer;
  callbackUrl?: string | undefined;
  /** The version or alias named (`/async/fn/<name>@<qualifier>`): the same key for another one is another request. */
  qualifier?: string | undefined;
  /** More headers that make the request what it is (sorted by name before hashing). */
  headers?: Record<string, string | string[]> | undefined;
}

/** sha256 (hex) of a request's method, path, query, content type, body (by its sha256), callback and given headers. */
export function requestFingerprint(request: FingerprintedRequest): string {
  const headers = Object.entries(request.headers ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const parts = [
    request.method.toUpperCase(),
    request.path,
    request.query,
    request.contentType ?? null,
    createHash('sha256').update(request.body).digest('hex'),
    request.callbackUrl ?? null,
    headers,
    // Only when named, so fingerprints of requests without one are what they were (keys stored before).
    ...(request.qualifier ? [request.qualifier] : []),
  ];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/**
 * An Idempotency-Key as the platform keeps it: whose it is and what request it came with. Keys are
 * scoped: the same key from two callers is two keys, so no caller can claim a key for another one.
 */
export interface Idempotency {
  /** The Idempotency-Key header. */
  key: string;
  /** Who sent it: `tenant:<id>` for a token's tenant, `credential:<sha256>` or `anonymous:<fingerprint>` on the async trigger. */
  scope: string;
  /** requestFingerprint of the request: the same key with another fingerprint is refused. */
  fingerprint: string;
}

/** The job id of an idempotent submission: the same for the same kind, target (function or queue), scope and key. */
export function idempotentJobId(kind: 'async' | 'queue', target: string, idempotency: Pick<Idempotency, 'scope' | 'key'>): string {
  return deterministicId(kind, target, idempotency.scope, idempotency.key);
}

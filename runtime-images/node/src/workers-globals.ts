// What a Workers script finds in its global scope besides the web standards Node has: HTMLRewriter
// (html-rewriter.ts), `caches` (the Cache
// API: `caches.default` and `caches.open(name)`, held in the container's memory, so per container and lost
// when it goes — a self-hosted edge has no shared cache tier), `crypto.subtle.timingSafeEqual`, and
// `request.cf` (the fields a self-hosted edge can fill; the others absent, never throwing).
import { timingSafeEqual } from 'node:crypto';
import type { IncomingInvocation } from './lambda.js';
import { HTMLRewriter } from './html-rewriter.js';

/** Bytes all the caches of one container hold at most; the least recently stored entries go first. */
const CACHE_BYTES = 16 * 1024 * 1024;

interface Entry {
  status: number;
  statusText: string;
  headers: Array<[string, string]>;
  body: ArrayBuffer;
  /** Epoch ms after which the entry is stale (gone). */
  expires: number;
}

/** What a cache is keyed by: a Request (its URL) or a URL. */
type CacheKey = Request | URL | string;

const keyOf = (request: CacheKey): string => (request instanceof Request ? request.url : String(request));

/** The seconds a response may be cached for, from Cache-Control (s-maxage, max-age) or Expires; 0 when it may not. */
export function cacheLifetime(response: Response, now: number): number {
  const control = (response.headers.get('cache-control') ?? '').toLowerCase();
  if (/\b(no-store|private|no-cache)\b/.test(control)) return 0;
  const shared = /\bs-maxage=(\d+)/.exec(control) ?? /\bmax-age=(\d+)/.exec(control);
  if (shared) return Number(shared[1]);
  const expires = Date.parse(response.headers.get('expires') ?? '');
  return Number.isNaN(expires) ? 0 : Math.max(0, Math.floor((expires - now) / 1000));
}

/** One named cache, as Cloudflare's Cache API: match, put, delete, keyed by URL (GET only). */
export class MemoryCache {
  constructor(
    private readonly store: Map<string, Entry>,
    private readonly room: { bytes: number },
    private readonly prefix: string,
    private readonly clock: () => number = Date.now,
  ) {}

  async match(request: CacheKey): Promise<Response | undefined> {
    if (request instanceof Request && request.method !== 'GET') return undefined;
    const key = this.prefix + keyOf(request);
    const entry = this.store.get(key);
    if (!entry) return undefined;
    if (entry.expires <= this.clock()) {
      this.drop(key);
      return undefined;
    }
    return new Response(entry.body.slice(0), { status: entry.status, statusText: entry.statusText, headers: entry.headers });
  }

  async put(request: CacheKey, response: Response): Promise<void> {
    if (request instanceof Request && request.method !== 'GET') throw new TypeError('Cache.put: only GET requests can be cached');
    if (response.status === 206) throw new TypeError('Cache.put: a partial response (206) cannot be cached');
    if ((response.headers.get('vary') ?? '').includes('*')) throw new TypeError('Cache.put: a response with Vary: * cannot be cached');
    const now = this.clock();
    const seconds = cacheLifetime(response, now);
    const body = await response.arrayBuffer();
    const key = this.prefix + keyOf(request);
    this.drop(key);
    if (seconds <= 0 || body.byteLength > CACHE_BYTES) return;
    const headers: Array<[string, string]> = [];
    response.headers.forEach((value, name) => {
      if (name !== 'set-cookie') headers.push([name, value]);
    });
    this.store.set(key, { status: response.status, statusText: response.statusText, headers, body, expires: now + seconds * 1000 });
    this.room.bytes += body.byteLength;
    for (const [oldest, entry] of this.store) {
      if (this.room.bytes <= CACHE_BYTES) break;
      this.store.delete(oldest);
      this.room.bytes -= entry.body.byteLength;
    }
  }

  async delete(request: CacheKey): Promise<boolean> {
    return this.drop(this.prefix + keyOf(request));
  }

  private drop(key: string): boolean {
    const entry = this.store.get(key);
    if (!entry) return false;
    this.store.delete(key);
    this.room.bytes -= entry.body.byteLength;
    return true;
  }
}

/** `caches`: `default` and named caches, sharing one store and one memory bound. */
export function memoryCaches(clock: () => number = Date.now) {
  const store = new Map<string, Entry>();
  const room = { bytes: 0 };
  return {
    default: new MemoryCache(store, room, 'default\n', clock),
    async open(name: string) {
      return new MemoryCache(store, room, `${name}\n`, clock);
    },
  };
}

/** Cloudflare's constant-time comparison; as there, buffers of different lengths throw. */
export function subtleTimingSafeEqual(a: ArrayBuffer | ArrayBufferView, b: ArrayBuffer | ArrayBufferView): boolean {
  const bytes = (v: ArrayBuffer | ArrayBufferView) => (ArrayBuffer.isView(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : Buffer.from(v));
  const [x, y] = [bytes(a), bytes(b)];
  if (x.byteLength !== y.byteLength) throw new TypeError('Input buffers must have the same byte length');
  return timingSafeEqual(x, y);
}

/** Installs `caches` and `crypto.subtle.timingSafeEqual` where Node has none. */
export function installWorkersGlobals(): void {
  const g = globalThis as unknown as { caches?: unknown; HTMLRewriter?: unknown };
  if (g.caches === undefined) Object.defineProperty(globalThis, 'caches', { value: memoryCaches(), configurable: true });
  if (g.HTMLRewriter === undefined) Object.defineProperty(globalThis, 'HTMLRewriter', { value: HTMLRewriter, configurable: true, writable: true });
  const subtle = globalThis.crypto?.subtle as unknown as { timingSafeEqual?: unknown } | undefined;
  if (subtle && subtle.timingSafeEqual === undefined) Object.defineProperty(subtle, 'timingSafeEqual', { value: subtleTimingSafeEqual, configurable: true });
}

/** `request.cf`: what a self-hosted edge knows of the request; Cloudflare's location fields are absent. */
export function cfOf(inv: IncomingInvocation): Record<string, unknown> {
  const header = (name: string) => {
    const value = inv.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  return {
    colo: 'LOCAL',
    httpProtocol: 'HTTP/1.1',
    clientAcceptEncoding: header('accept-encoding') ?? '',
    requestPriority: '',
    ...(header('x-forwarded-proto') === 'https' ? { tlsVersion: 'TLSv1.3' } : {}),
  };
}

// The invoker's end of a container's bindings (Workers KV namespaces, queue producers): an HTTP server on a
// unix socket of its own in the container's channel directory (mounted read-only into it), opened only for
// a function with bindings. The socket is the container's, so the function is known by it: a request names
// a binding, never a tenant or namespace, and reaches only what the function was deployed with.
import http from 'node:http';
import path from 'node:path';
import type { FunctionSpec } from '../core/function-spec.js';
import { BINDING_HEADER, BINDINGS_SOCKET_NAME, type BindingsWire } from '../runtime-images/node/protocol.js';
import { splitFunctionId, triggerId } from '../tenancy/names.js';
import { listenOnSocket } from '../invoker/runtime/socket-server.js';
import { KvLimitError, type KvStore } from './kv-store.js';

export interface BindingServices {
  kv: KvStore;
  /** Sends a message to a queue (its full id, tenant included), as POST /queues/:queue/messages does. */
  sendToQueue(queueId: string, message: { body: Buffer; contentType: string }): Promise<{ id: string }>;
  /** Largest body a binding request carries (a KV value, a batch of messages). */
  maxBodyBytes: number;
}

/** Messages one send or sendBatch carries at most (Cloudflare Queues' batch limit). */
export const MAX_BATCH_MESSAGES = 100;
/** Connections one container may hold open to its bindings socket. */
const MAX_CONNECTIONS = 16;

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

class BindingError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: http.IncomingMessage, limit: number, what: string): Promise<Buffer> {
  // Refused before a byte of it is read, so the function gets the answer rather than a reset connection.
  if (Number(req.headers['content-length'] ?? 0) > limit) {
    return Promise.reject(new BindingError(413, 'LIMIT_EXCEEDED', `${what} is ${req.headers['content-length']} bytes; at most ${limit}`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BindingError(413, 'LIMIT_EXCEEDED', `${what} is over ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const metadataHeader = (metadata: string | undefined) =>
  metadata === undefined ? {} : { [BINDING_HEADER.metadata]: Buffer.from(metadata).toString('base64url') };

/** Answers one binding request of the function `spec`. */
export async function handleBinding(spec: FunctionSpec, services: BindingServices, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://bindings');
  const [kind, binding, rest] = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const tenant = splitFunctionId(spec.name).tenant;
  if (kind === 'kv' && binding && spec.kv.includes(binding)) {
    const kv = services.kv;
    if (rest === 'keys' && req.method === 'GET') {
      const limit = url.searchParams.has('limit') ? Number(url.searchParams.get('limit')) : undefined;
      if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1))
        throw new BindingError(400, 'BAD_REQUEST', 'KV list: limit is a whole number from 1');
      const listing = await kv.list(tenant, binding, {
        prefix: url.searchParams.get('prefix') ?? undefined,
        ...(limit !== undefined ? { limit } : {}),
        cursor: url.searchParams.get('cursor') ?? undefined,
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(listing));
      return;
    }
    const key = url.searchParams.get('key');
    if (key === null || rest !== undefined) throw new BindingError(400, 'BAD_REQUEST', 'a KV request names its key (?key=)');
    if (req.method === 'GET') {
      const entry = await kv.get(tenant, binding, key);
      if (!entry) {
        res.writeHead(404).end();
        return;
      }
      res
        .writeHead(200, {
          'content-type': 'application/octet-stream',
          ...metadataHeader(entry.metadata),
          ...(entry.expiration === undefined ? {} : { [BINDING_HEADER.expiration]: String(entry.expiration) }),
        })
        .end(entry.value);
      return;
    }
    if (req.method === 'PUT') {
      const value = await readBody(req, kv.limits.maxValueBytes, 'the KV value (FAAS_KV_MAX_VALUE_BYTES)');
      const metadata = req.headers[BINDING_HEADER.metadata];
      const expiration = url.searchParams.get('expiration');
      const ttl = url.searchParams.get('expirationTtl');
      const now = Math.floor(Date.now() / 1000);
      const expires = expiration ? Number(expiration) : ttl ? now + Number(ttl) : undefined;
      if (expires !== undefined && !(Number.isFinite(expires) && expires > now))
        throw new BindingError(400, 'BAD_REQUEST', 'KV put: expiration (epoch seconds) and expirationTtl (seconds) must give a time in the future');
      const metadataText = typeof metadata === 'string' ? Buffer.from(metadata, 'base64url').toString('utf8') : undefined;
      if (metadataText !== undefined && !isJson(metadataText)) throw new BindingError(400, 'BAD_REQUEST', 'KV put: metadata is a JSON value');
      await kv.put(tenant, binding, key, {
        value,
        ...(metadataText !== undefined ? { metadata: metadataText } : {}),
        ...(expires !== undefined ? { expiration: expires } : {}),
      });
      res.writeHead(204).end();
      return;
    }
    if (req.method === 'DELETE') {
      await kv.delete(tenant, binding, key);
      res.writeHead(204).end();
      return;
    }
  }
  if (kind === 'queues' && binding && Object.hasOwn(spec.queueBindings, binding) && req.method === 'POST') {
    const { messages } = JSON.parse((await readBody(req, services.maxBodyBytes, 'the messages sent at once')).toString('utf8')) as BindingsWire['send'];
    if (!Array.isArray(messages) || messages.length === 0 || messages.length > MAX_BATCH_MESSAGES)
      throw new BindingError(400, 'BAD_REQUEST', `Queue sendBatch: from 1 to ${MAX_BATCH_MESSAGES} messages at once (as Cloudflare Queues)`);
    const queueId = triggerId(tenant, spec.queueBindings[binding]!);
    const ids: string[] = [];
    for (const m of messages) ids.push((await services.sendToQueue(queueId, { body: Buffer.from(m.body, 'base64'), contentType: m.contentType })).id);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ids }));
    return;
  }
  throw new BindingError(404, 'NO_BINDING', `function ${splitFunctionId(spec.name).name} has no binding for ${req.method} ${url.pathname}`);
}

/** Listens on the container's bindings socket (in its channel directory) for the function's binding requests. */
export async function openBindingServer(channelDir: string, spec: FunctionSpec, services: BindingServices): Promise<{ close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    handleBinding(spec, services, req, res).catch((err: unknown) => {
      const known = err instanceof BindingError ? err : err instanceof KvLimitError ? new BindingError(413, 'LIMIT_EXCEEDED', err.message) : undefined;
      const status = known?.status ?? (err as { status?: number }).status ?? 500;
      const code = known?.code ?? (err as { code?: string }).code ?? 'BINDING_FAILED';
      const answer = () => {
        // The request's body may be left unread: this connection is not used again.
        if (!res.headersSent) res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
        res.end(JSON.stringify({ error: { code, message: (err as Error).message } }));
      };
      // A body refused unread is read to its end first (into nothing), so the runtime, still writing it,
      // gets this answer rather than a broken pipe.
      if (req.complete || req.destroyed) answer();
      else {
        req.on('end', answer);
        req.resume();
      }
    });
  });
  // A function holds a few connections at most (its runtime's client keeps 8): more are refused, so one
  // container can never take the invoker's file descriptors; an accept failure never takes the invoker down.
  server.maxConnections = MAX_CONNECTIONS;
  server.on('error', () => {});
  const socketPath = path.join(channelDir, BINDINGS_SOCKET_NAME);
  await listenOnSocket(server, socketPath);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

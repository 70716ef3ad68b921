// Workers bindings as `env` entries: KV namespaces (get, getWithMetadata, put, delete, list — Cloudflare's
// KV API) and queue producers (send, sendBatch), each a client of the invoker's bindings socket in the
// container's channel directory (protocol.ts BINDINGS_SOCKET_NAME). The invoker knows the function by the
// socket, so a binding reaches only what the function was deployed with.
import http from 'node:http';
import { BINDING_HEADER, BINDINGS_SOCKET_NAME, CONTAINER, type BindingsWire, type FunctionBindings } from '../protocol.js';

const socketPath = `${CONTAINER.socketDir}/${BINDINGS_SOCKET_NAME}`;
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function ask(method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath, agent, method, path, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A failed binding request as the error KV and Queues throw: the platform's message. */
function failure(reply: Reply, what: string): Error {
  let message = `${what} failed (${reply.status})`;
  try {
    message = `${what}: ${(JSON.parse(reply.body.toString('utf8')) as { error: { message: string } }).error.message}`;
  } catch {
    // Not the platform's JSON error: the status says enough.
  }
  return new Error(message);
}

type ValueType = 'text' | 'json' | 'arrayBuffer' | 'stream';

function typeOf(options: unknown): ValueType {
  const type = typeof options === 'string' ? options : ((options as { type?: string } | undefined)?.type ?? 'text');
  if (type !== 'text' && type !== 'json' && type !== 'arrayBuffer' && type !== 'stream')
    throw new TypeError(`KV get: unknown type "${type}" (text, json, arrayBuffer or stream)`);
  return type;
}

function decode(value: Buffer, type: ValueType): unknown {
  switch (type) {
    case 'text':
      return value.toString('utf8');
    case 'json':
      return JSON.parse(value.toString('utf8'));
    case 'arrayBuffer':
      return value.buffer.slice(value.byteOffset, value.byteOffset + value.length);
    case 'stream':
      return new Response(value).body;
  }
}

async function bytesOf(value: unknown): Promise<Buffer> {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ReadableStream) return Buffer.from(await new Response(value).arrayBuffer());
  throw new TypeError('KV put: the value is a string, ArrayBuffer, ArrayBufferView or ReadableStream');
}

const kvPath = (binding: string, key: string) => `/kv/${encodeURIComponent(binding)}?key=${encodeURIComponent(key)}`;

export function kvNamespace(binding: string) {
  async function getOne(key: string, options: unknown): Promise<{ value: unknown; metadata: unknown }> {
    const type = typeOf(options);
    const reply = await ask('GET', kvPath(binding, key));
    if (reply.status === 404) return { value: null, metadata: null };
    if (reply.status !== 200) throw failure(reply, `KV GET ${key}`);
    const metadata = reply.headers[BINDING_HEADER.metadata];
    return { value: decode(reply.body, type), metadata: typeof metadata === 'string' ? JSON.parse(Buffer.from(metadata, 'base64url').toString('utf8')) : null };
  }
  return {
    async get(key: string | string[], options?: unknown): Promise<unknown> {
      if (Array.isArray(key)) return new Map(await Promise.all(key.map(async (k) => [k, (await getOne(k, options)).value] as const)));
      return (await getOne(key, options)).value;
    },
    async getWithMetadata(key: string, options?: unknown): Promise<{ value: unknown; metadata: unknown; cacheStatus: null }> {
      return { ...(await getOne(key, options)), cacheStatus: null };
    },
    async put(key: string, value: unknown, options: { expiration?: number; expirationTtl?: number; metadata?: unknown } = {}): Promise<void> {
      const query = [
        options.expiration !== undefined ? `&expiration=${Number(options.expiration)}` : '',
        options.expirationTtl !== undefined ? `&expirationTtl=${Number(options.expirationTtl)}` : '',
      ].join('');
      const headers: Record<string, string> = {};
      if (options.metadata !== undefined) headers[BINDING_HEADER.metadata] = Buffer.from(JSON.stringify(options.metadata)).toString('base64url');
      const reply = await ask('PUT', `${kvPath(binding, key)}${query}`, await bytesOf(value), headers);
      if (reply.status !== 204) throw failure(reply, `KV PUT ${key}`);
    },
    async delete(key: string): Promise<void> {
      const reply = await ask('DELETE', kvPath(binding, key));
      if (reply.status !== 204) throw failure(reply, `KV DELETE ${key}`);
    },
    async list(options: { prefix?: string; limit?: number; cursor?: string } = {}): Promise<unknown> {
      const params = new URLSearchParams();
      if (options.prefix) params.set('prefix', options.prefix);
      if (options.limit !== undefined) params.set('limit', String(options.limit));
      if (options.cursor) params.set('cursor', options.cursor);
      const reply = await ask('GET', `/kv/${encodeURIComponent(binding)}/keys?${params}`);
      if (reply.status !== 200) throw failure(reply, 'KV list');
      return { ...(JSON.parse(reply.body.toString('utf8')) as object), cacheStatus: null };
    },
  };
}

/** A message body as its consumer reads it back, by Workers' content types (json by default). */
function encodeMessage(body: unknown, contentType?: string): { body: string; contentType: string } {
  const type = contentType ?? (body instanceof ArrayBuffer || ArrayBuffer.isView(body) ? 'bytes' : 'json');
  switch (type) {
    case 'json':
      return { body: Buffer.from(JSON.stringify(body)).toString('base64'), contentType: 'application/json' };
    case 'text':
      if (typeof body !== 'string') throw new TypeError('Queue send: contentType "text" takes a string body');
      return { body: Buffer.from(body).toString('base64'), contentType: 'text/plain; charset=utf-8' };
    case 'bytes': {
      if (!(body instanceof ArrayBuffer || ArrayBuffer.isView(body)))
        throw new TypeError('Queue send: contentType "bytes" takes an ArrayBuffer or a view of one');
      const bytes = body instanceof ArrayBuffer ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      return { body: bytes.toString('base64'), contentType: 'application/octet-stream' };
    }
    default:
      throw new TypeError(`Queue send: contentType "${type}" is not supported here (json, text or bytes)`);
  }
}

export function queueProducer(binding: string) {
  async function sendAll(messages: Array<{ body: unknown; contentType?: string; delaySeconds?: number }>, delaySeconds?: number): Promise<void> {
    if (delaySeconds || messages.some((m) => m.delaySeconds))
      throw new TypeError('Queue send: delaySeconds is not supported on this platform; send without it');
    const wire: BindingsWire['send'] = { messages: messages.map((m) => encodeMessage(m.body, m.contentType)) };
    const reply = await ask('POST', `/queues/${encodeURIComponent(binding)}`, Buffer.from(JSON.stringify(wire)), { 'content-type': 'application/json' });
    if (reply.status !== 200) throw failure(reply, `Queue ${binding} send`);
  }
  return {
    send: (body: unknown, options: { contentType?: string; delaySeconds?: number } = {}) => sendAll([{ body, ...options }]),
    sendBatch: (messages: Array<{ body: unknown; contentType?: string; delaySeconds?: number }>, options: { delaySeconds?: number } = {}) =>
      sendAll(messages, options.delaySeconds),
  };
}

/** The env entries of a function's bindings. */
export function bindingEnv(bindings: FunctionBindings | undefined): Record<string, unknown> {
  if (!bindings) return {};
  return {
    ...Object.fromEntries(bindings.kv.map((name) => [name, kvNamespace(name)])),
    ...Object.fromEntries(bindings.queues.map((name) => [name, queueProducer(name)])),
  };
}

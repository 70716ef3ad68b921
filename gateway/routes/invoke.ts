// The HTTP trigger: any method on /fn/:name[/*] runs the function with the request as is (the hot path).
import { randomUUID } from 'node:crypto';
import { pipeline, type Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FaasError, FunctionNotFoundError } from '../../core/errors.js';
import type { Invoker } from '../../core/invoker.js';
import type { GatewayMetrics } from '../../metrics/platform-metrics.js';
import { resolveFunctionPath } from './function-path.js';
import { splitQualifier, VERSION_HEADER } from '../../core/releases.js';
import { forwardedHeaders, type EdgeOrigin } from '../edge/forwarded-headers.js';
import { functionHostUrl, type FunctionHostRequest } from '../edge/function-host.js';
import { ORIGIN_WIDE_HEADERS, scopeSetCookie } from '../edge/function-cookies.js';

/** Response headers that belong to one hop and are set again by this server, or that would let a function's page
 * reach beyond its own path on the gateway's origin (a service worker scoped to `/` sees the dashboard's calls). */
const DROPPED = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'trailer',
  'proxy-connection',
  'content-length',
  'date',
  'service-worker-allowed',
]);
const EMPTY = Buffer.alloc(0);
/** Pages under /fn run as scripts of an opaque origin: no access to the gateway origin's storage or cookies. */
const FN_SANDBOX = 'sandbox allow-scripts allow-forms allow-popups allow-popups-to-escape-sandbox allow-modals allow-downloads';
const STREAM = { stream: true } as const;
const REJECTIONS: Record<string, 'throttled' | 'queue_timeout' | 'no_capacity'> = {
  TOO_MANY_REQUESTS: 'throttled',
  QUEUE_TIMEOUT: 'queue_timeout',
  NO_CAPACITY: 'no_capacity',
};

export interface InvokeRoutesDeps {
  invoker: Invoker;
  metrics: GatewayMetrics;
  maxBodyBytes: number;
  /** Largest upload relayed as a stream to a function (its length known). */
  maxStreamBytes: number;
  /** The public URL's host and scheme: functions see these, never the client's Host. */
  origin: EdgeOrigin;
  /** The domain functions have hosts of their own under ('' when off). */
  domain?: string;
  /** Whether a function id is deployed (the registry's local cache), to resolve `/fn/<tenant>/<name>`. */
  known: (id: string) => boolean;
  /** Called before a tenant's function runs; throws QuotaExceededError past a quota. */
  admit?: (fn: string) => void;
  /** More routes that take raw bodies the same way (the async trigger). */
  extra?: (scope: FastifyInstance) => void;
}

/**
 * Registers the trigger in its own scope. Bodies up to maxBodyBytes (or of unknown length) arrive whole, as a
 * Buffer; an upload to /fn/ of known length up to maxStreamBytes is relayed as it arrives (StreamedUpload),
 * so the gateway never holds it; anything larger is 413.
 */
export async function invokeRoutes(scope: FastifyInstance, deps: InvokeRoutesDeps): Promise<void> {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', (request, payload, done) => {
    const length = Number(request.headers['content-length'] ?? 0);
    if (length > deps.maxBodyBytes) {
      if (length <= deps.maxStreamBytes && request.url.startsWith('/fn/')) return done(null, new StreamedUpload(payload, length));
      return done(tooLarge(deps.maxBodyBytes), undefined);
    }
    collect(payload, deps.maxBodyBytes).then(
      (body) => done(null, body),
      (err: Error) => done(err, undefined),
    );
  });

  const handler = async (request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply) => {
    const { fn: name, qualifier, path, rawQuery } = resolveFunctionPath(request.url, '/fn/', request.params.name, deps.known);
    // Every answer names its invocation, platform errors included.
    const invocationId = randomUUID();
    reply.header('x-faas-invocation-id', invocationId);
    try {
      // A dotted name is a tenant function's id: reachable only as /fn/<tenant>/<name>.
      if (name === splitQualifier(request.params.name).name && name.includes('.')) throw new FunctionNotFoundError(name);
      deps.admit?.(name);
      const response = await deps.invoker.invoke(
        {
          invocationId,
          fn: name,
          ...(qualifier === undefined ? {} : { qualifier }),
          trigger: 'http',
          method: request.method,
          path,
          rawQuery,
          headers: requestHeaders(request, path),
          headerNames: spelledNames(request.raw.rawHeaders),
          ...(request.body instanceof StreamedUpload
            ? { body: EMPTY, bodyStream: { stream: request.body.stream, length: request.body.length } }
            : { body: (request.body as Buffer | undefined) ?? EMPTY }),
          receivedAt: Date.now(),
        },
        STREAM,
      );
      const headers: Record<string, string | string[]> = {};
      for (const key in response.headers) if (!DROPPED.has(key)) headers[key] = response.headers[key]!;
      headers['x-faas-invocation-id'] = response.meta.invocationId;
      headers[VERSION_HEADER] = String(response.meta.version);
      // Under /fn a function's pages share the gateway's origin with the dashboard (and its token in
      // sessionStorage) and with every other function: they are rendered as a sandbox of an origin of their
      // own, their cookies are pinned to their own prefix, and origin-wide instructions are dropped. At its own
      // host a function has a real origin and needs none of that, but still sets no cookie for a parent domain.
      const underFn = !(request.raw as FunctionHostRequest).functionHost;
      const cookies = headers['set-cookie'];
      if (cookies !== undefined) {
        const prefix = underFn ? functionPrefix(request.url, path) : undefined;
        headers['set-cookie'] = (Array.isArray(cookies) ? cookies : [cookies]).map((cookie) => scopeSetCookie(cookie, prefix));
      }
      if (underFn) {
        for (const name of ORIGIN_WIDE_HEADERS) delete headers[name];
        const own = headers['content-security-policy'];
        headers['content-security-policy'] = own === undefined ? FN_SANDBOX : [...(Array.isArray(own) ? own : [own]), FN_SANDBOX];
      }
      headers['x-faas-cold-start'] = response.meta.coldStart ? 'true' : 'false';
      if (response.meta.coldStart && response.meta.initMs !== undefined) headers['x-faas-init-ms'] = response.meta.initMs.toFixed(1);
      // A stream goes out as it comes (chunked); its duration is known only at its end.
      if (response.stream) {
        // Relayed by hand: headers at once (not with the first chunk: an event stream's caller sees it
        // open), then the body with backpressure; a caller that leaves destroys the stream (the call aborts),
        // and a stream that fails ends the connection, so the caller knows the answer is incomplete.
        reply.hijack();
        try {
          reply.raw.writeHead(response.status, headers);
          reply.raw.flushHeaders();
        } catch (err) {
          // A header Node refuses: nothing sent yet; the call is aborted and the caller told.
          response.stream.destroy();
          reply.raw.destroy(err as Error);
          return reply;
        }
        pipeline(response.stream, reply.raw, () => {});
        return reply;
      }
      headers['x-faas-duration-ms'] = response.meta.durationMs.toFixed(3);
      // HEAD: the length a GET would have (the function's, not that of the empty body relayed).
      const length = response.headers['content-length'];
      if (request.method === 'HEAD' && typeof length === 'string') headers['content-length'] = length;
      reply.code(response.status).headers(headers);
      // No body and no type from the function (204, 304, an empty Lambda answer): none is invented.
      if (response.body.length === 0 && response.headers['content-type'] === undefined) return reply.send();
      return reply.send(response.body);
    } catch (err) {
      // By code, not class: errors relayed from a remote invoker carry the same codes.
      const rejected = err instanceof FaasError ? REJECTIONS[err.code] : undefined;
      if (rejected) deps.metrics.countRejected(name, rejected);
      throw err;
    }
  };

  /**
   * What the function receives: the client's end-to-end headers, the function's public URL as Host (its
   * own host when the request came to it), and under /fn the prefix it is mounted at (x-forwarded-prefix).
   */
  const requestHeaders = (request: FastifyRequest, path: string) => {
    const own = (request.raw as FunctionHostRequest).functionHost;
    if (own && deps.domain) {
      const hostOrigin = {
        publicHost: new URL(functionHostUrl(`${deps.origin.publicProto}://${deps.origin.publicHost}`, deps.domain, own)).host,
        publicProto: deps.origin.publicProto,
      };
      return forwardedHeaders(request.headers, hostOrigin, request.ip);
    }
    const headers = forwardedHeaders(request.headers, deps.origin, request.ip);
    headers['x-forwarded-prefix'] = functionPrefix(request.url, path);
    return headers;
  };

  const options = { logLevel: 'warn' as const };
  scope.all('/fn/:name', options, handler);
  scope.all('/fn/:name/*', options, handler);
  deps.extra?.(scope);
}

/** The prefix a function is mounted at under /fn (`/fn/<name>`, `/fn/<tenant>/<name>`): the URL's path less the function's own. */
function functionPrefix(url: string, path: string): string {
  const q = url.indexOf('?');
  const urlPath = q === -1 ? url : url.slice(0, q);
  return urlPath.endsWith(path) ? urlPath.slice(0, urlPath.length - path.length) || '/' : urlPath;
}

/** An upload relayed as it arrives. */
class StreamedUpload {
  constructor(
    readonly stream: Readable,
    readonly length: number,
  ) {}
}

function tooLarge(limitBytes: number): Error {
  return Object.assign(new Error(`the request body is larger than ${limitBytes} bytes`), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 });
}

/** Reads a whole body up to limitBytes (413 beyond, and the rest is left unread). */
function collect(payload: Readable, limitBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        cleanup();
        return reject(tooLarge(limitBytes));
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      payload.off('data', onData);
      payload.off('end', onEnd);
      payload.off('error', onError);
    };
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
  });
}

/** The header names of a request as its client spelt them (Node's rawHeaders: name, value, name, …). */
function spelledNames(rawHeaders: readonly string[]): string[] {
  const names: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) names.push(rawHeaders[i]!);
  return names;
}

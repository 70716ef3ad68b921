// The HTTP trigger, the hot path: any method on /fn/<name>[/…] (or at a function's own host) runs the function
// with the request as is. A bare node:http handler beside fastify, which serves the management API: a function
// call pays for no router, hook chain or reply object (fastify cost ~15 % of the gateway's throughput), and
// keeps every edge check the API's requests get — the connection guard, the request checks, the body limits
// and idle timeout, the error shape.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import { FaasError, FunctionNotFoundError } from '../../core/errors.js';
import type { Invoker } from '../../core/invoker.js';
import { splitQualifier } from '../../core/releases.js';
import type { GatewayMetrics } from '../../metrics/platform-metrics.js';
import type { ConnectionGuard } from '../edge/connection-guard.js';
import { forwardedHeaders, type EdgeOrigin } from '../edge/forwarded-headers.js';
import { functionHostUrl, functionOfHost, routedUrl, type FunctionHost, type FunctionHostRequest } from '../edge/function-host.js';
import { isRefused, sendError } from '../edge/refusals.js';
import { ALLOWED_METHODS, checkIncoming, SERVED_METHODS } from '../edge/request-checks.js';
import { mapError } from '../plugins/error-handler.js';
import { answerHeaders } from './function-answer.js';
import { readBody, StreamedUpload } from './request-body.js';
import type { ResolvedPath } from './function-path.js';
import { FN_ROOT, functionPrefix, isRejection, parseTriggerUrl, spelledNames } from './trigger-url.js';

const EMPTY = Buffer.alloc(0);
const STREAM = { stream: true } as const;
/** Methods whose body is not read (as fastify did): a GET's body is drained and dropped by Node after the answer. */
const BODYLESS = new Set(['GET', 'HEAD']);
const REJECTIONS: Record<string, 'throttled' | 'queue_timeout' | 'no_capacity'> = {
  TOO_MANY_REQUESTS: 'throttled',
  QUEUE_TIMEOUT: 'queue_timeout',
  NO_CAPACITY: 'no_capacity',
};

/** One call past the edge checks: where it came and what it names. */
interface Call {
  /** The URL as routed (a function host's request under its /fn path). */
  url: string;
  own: FunctionHost | undefined;
  first: string;
  target: ResolvedPath;
  invocationId: string;
}

export interface HttpTriggerDeps {
  invoker: Invoker;
  metrics: Pick<GatewayMetrics, 'countRejected'>;
  guard: ConnectionGuard;
  maxBodyBytes: number;
  /** Largest upload relayed as a stream to a function (its length known). */
  maxStreamBytes: number;
  /** The public URL's host and scheme: functions see these, never the client's Host. */
  origin: EdgeOrigin;
  /** The domain functions have hosts of their own under ('' when off). */
  domain: string;
  /** Whether a function id is deployed (the registry's local cache), to resolve `/fn/<tenant>/<name>`. */
  known: (id: string) => boolean;
  /** Called before a tenant's function runs; throws QuotaExceededError past a quota. */
  admit?: (fn: string) => void;
  /** Where failures of the platform's own are logged. */
  logError?: (err: unknown, message: string) => void;
}

export class HttpTrigger {
  private readonly hostOrigin = new Map<string, EdgeOrigin>();
  private closing = false;

  constructor(private readonly deps: HttpTriggerDeps) {}

  /** The server is closing: calls on connections still open are answered 503 and their connections closed. */
  close(): void {
    this.closing = true;
  }

  /** Whether a request is the trigger's: under /fn/, or to a function's own host (remembered on the request). */
  serves(req: IncomingMessage): boolean {
    const own = this.deps.domain === '' ? undefined : functionOfHost(req.headers.host, this.deps.domain);
    if (own) (req as FunctionHostRequest).functionHost = own;
    return own !== undefined || req.url?.startsWith(FN_ROOT) === true;
  }

  /** Serves a request serves() took. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const { guard } = this.deps;
    guard.receiving(req, res);
    // Never answered: the connection closes once the refusal before it is out.
    if (isRefused(req.socket)) return;
    const rejection = checkIncoming(req);
    if (rejection) {
      sendError(res, rejection.status, rejection.code, rejection.message, { close: true, ...(rejection.headers ? { headers: rejection.headers } : {}) });
      return;
    }
    if (this.closing) {
      sendError(res, 503, 'SHUTTING_DOWN', 'the platform is shutting down; retry the call', { close: true });
      return;
    }
    const method = req.method!;
    if (!SERVED_METHODS.has(method)) {
      sendError(res, 405, 'METHOD_NOT_ALLOWED', `method ${method} is not served`, { close: true, headers: { allow: ALLOWED_METHODS } });
      return;
    }
    const own = (req as FunctionHostRequest).functionHost;
    const url = own ? routedUrl(own, req.url!) : req.url!;
    const target = parseTriggerUrl(url, method, this.deps.known);
    if (isRejection(target)) {
      sendError(res, target.status, target.code, target.message, { close: target.status !== 404 });
      return;
    }
    const call: Call = { url, own, first: target.first, target: target.resolved, invocationId: randomUUID() };
    const body = BODYLESS.has(method) ? Promise.resolve(EMPTY) : readBody(req, req.headers, this.deps);
    body
      .then(
        (received) => {
          guard.handling(req.socket);
          return this.invoke(req, res, call, received);
        },
        (err: unknown) => this.fail(req, res, err, undefined),
      )
      .catch((err: unknown) => {
        // Answering itself failed: the caller is cut off rather than left waiting.
        this.deps.logError?.(err, 'answering a function call failed');
        res.destroy();
      });
  }

  private async invoke(req: IncomingMessage, res: ServerResponse, call: Call, body: Buffer | StreamedUpload): Promise<void> {
    const { fn, qualifier, path, rawQuery } = call.target;
    try {
      // A dotted name is a tenant function's id: reachable only as /fn/<tenant>/<name>.
      if (fn === splitQualifier(call.first).name && fn.includes('.')) throw new FunctionNotFoundError(fn);
      this.deps.admit?.(fn);
      const response = await this.deps.invoker.invoke(
        {
          invocationId: call.invocationId,
          fn,
          ...(qualifier === undefined ? {} : { qualifier }),
          trigger: 'http',
          method: req.method!,
          path,
          rawQuery,
          headers: this.requestHeaders(req, call.own, call.url, path),
          headerNames: spelledNames(req.rawHeaders),
          ...(body instanceof StreamedUpload ? { body: EMPTY, bodyStream: { stream: body.stream, length: body.length } } : { body }),
          receivedAt: Date.now(),
        },
        STREAM,
      );
      const headers = answerHeaders(response, call.own ? undefined : functionPrefix(call.url, path));
      if (response.stream) {
        // Relayed as it comes (chunked): headers at once (an event stream's caller sees it open), then the body
        // with backpressure; a caller that leaves destroys the stream (the call aborts), and a stream that fails
        // ends the connection, so the caller knows the answer is incomplete.
        try {
          res.writeHead(response.status, headers);
          res.flushHeaders();
        } catch (err) {
          // A header Node refuses: nothing sent yet; the call is aborted and the caller told.
          response.stream.destroy();
          return this.fail(req, res, err, call.invocationId);
        }
        pipeline(response.stream, res, () => {});
        return;
      }
      // A status that has no body (1xx, 204, 304) is sent without one and says no length (nor, for 204, a type).
      const bodiless = response.status < 200 || response.status === 204 || response.status === 304;
      if (bodiless && response.status !== 304) delete headers['content-type'];
      // No body and no type from the function (an empty Lambda answer): none is invented.
      const bare = bodiless || (response.body.length === 0 && response.headers['content-type'] === undefined);
      if (!bare && headers['content-type'] === undefined) headers['content-type'] = 'application/octet-stream';
      // HEAD: the length a GET would have (the function's, not that of the empty body relayed), none when unknown.
      const length = response.headers['content-length'];
      if (req.method === 'HEAD') {
        if (typeof length === 'string' && !bodiless) headers['content-length'] = length;
      } else if (!bodiless) headers['content-length'] = String(response.body.length);
      try {
        res.writeHead(response.status, headers);
      } catch (err) {
        return this.fail(req, res, err, call.invocationId);
      }
      res.end(bare ? undefined : response.body);
    } catch (err) {
      // By code, not class: errors relayed from a remote invoker carry the same codes.
      const rejected = err instanceof FaasError ? REJECTIONS[err.code] : undefined;
      if (rejected) this.deps.metrics.countRejected(fn, rejected);
      this.fail(req, res, err, call.invocationId);
    }
  }

  /** Answers a failure in the error shape (every answer past the edge checks names its invocation). */
  private fail(req: IncomingMessage, res: ServerResponse, err: unknown, invocationId: string | undefined): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const headers = invocationId ? { 'x-faas-invocation-id': invocationId } : undefined;
    // The caller left (or was cut off at a limit) before its request was in: nobody to answer, nothing broken.
    // (The platform's own errors keep their answer: a timed-out upload's 504 still reaches a caller that waits.)
    if (!(err instanceof FaasError) && (req.socket?.destroyed || req.readableAborted)) {
      sendError(res, 400, 'CLIENT_CLOSED', 'the request was not complete', headers ? { headers } : {});
      return;
    }
    const error = err instanceof Error ? err : new Error(String(err));
    const { status, body } = mapError(error);
    if (status >= 500 && !(err instanceof FaasError)) this.deps.logError?.(err, 'function call failed in the gateway');
    // A body left unread (413) is not read to its end: the connection closes after the answer.
    sendError(res, status, body.error.code, body.error.message, { close: req.complete === false, ...(headers ? { headers } : {}) });
  }

  /**
   * What the function receives: the client's end-to-end headers, the function's public URL as Host (its own host
   * when the request came to it), and under /fn the prefix it is mounted at (x-forwarded-prefix).
   */
  private requestHeaders(req: IncomingMessage, own: FunctionHost | undefined, url: string, path: string): Record<string, string | string[]> {
    const ip = req.socket.remoteAddress ?? '';
    if (own) return forwardedHeaders(req.headers, this.originOfHost(own), ip);
    const headers = forwardedHeaders(req.headers, this.deps.origin, ip);
    headers['x-forwarded-prefix'] = functionPrefix(url, path);
    return headers;
  }

  /** The origin a function's own host has (its label under the domain, the public URL's scheme and port). */
  private originOfHost(own: FunctionHost): EdgeOrigin {
    const key = `${own.tenant}/${own.name}`;
    let origin = this.hostOrigin.get(key);
    if (!origin) {
      const { publicProto, publicHost } = this.deps.origin;
      origin = { publicHost: new URL(functionHostUrl(`${publicProto}://${publicHost}`, this.deps.domain, own)).host, publicProto };
      if (this.hostOrigin.size > 10_000) this.hostOrigin.clear();
      this.hostOrigin.set(key, origin);
    }
    return origin;
  }
}

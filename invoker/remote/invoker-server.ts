// Serves an Invoker to gateways in other processes: invocation frames over HTTP, bearer token required.
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { FaasError } from '../../core/errors.js';
import type { Invoker } from '../../core/invoker.js';
import { pipeline } from 'node:stream';
import {
  CONTAINER_LIST_PATH,
  CONTAINERS_PATH,
  INVOKE_PATH,
  DRAINING_CODE,
  STREAM_HEADER,
  decodeFrame,
  encodeFrame,
  encodeHead,
  type RequestHead,
  type ResponseHead,
} from './wire.js';

export interface InvokerServerOptions {
  invoker: Invoker;
  token: string;
  /** Largest invocation frame accepted (request body plus its head). */
  maxFrameBytes: number;
  /** Serves Prometheus text at /metrics when given. */
  metrics?: () => Promise<{ contentType: string; text: string }>;
  /** HTTPS with this certificate and key (PEM): gateways reach it at https:// and check the certificate. */
  tls?: { cert: Buffer; key: Buffer };
}

const digest = (value: string) => createHash('sha256').update(value).digest();

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(Object.assign(new Error(`invocation frame over ${limit} bytes`), { statusCode: 413 }));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export class InvokerServer {
  private readonly server: http.Server | https.Server;
  private readonly expected: Buffer;
  private draining = false;

  constructor(private readonly options: InvokerServerOptions) {
    this.expected = digest(options.token);
    const serve = (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.handle(req, res).catch((err: Error & { statusCode?: number }) => {
        if (res.headersSent) return res.destroy(err);
        res.writeHead(err.statusCode ?? 500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'INVOKER_ERROR', message: err.message } }));
      });
    };
    this.server = options.tls
      ? https.createServer({ keepAliveTimeout: 72_000, cert: options.tls.cert, key: options.tls.key }, serve)
      : http.createServer({ keepAliveTimeout: 72_000 }, serve);
  }

  private authorized(req: http.IncomingMessage): boolean {
    const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    return !!match && timingSafeEqual(digest(match[1]!.trim()), this.expected);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.url === '/healthz') {
      return void (this.draining
        ? res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"draining"}')
        : res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}'));
    }
    if (!this.authorized(req)) {
      return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"code":"UNAUTHORIZED","message":"invalid token"}}');
    }
    // After the token check: the exposition names every tenant's functions.
    if (req.url === '/metrics' && this.options.metrics) {
      const { contentType, text } = await this.options.metrics();
      return void res.writeHead(200, { 'content-type': contentType }).end(text);
    }
    if (req.method === 'GET' && (req.url?.startsWith(CONTAINERS_PATH) || req.url?.startsWith(CONTAINER_LIST_PATH))) {
      const url = new URL(req.url, 'http://invoker');
      const tenant = url.searchParams.get('tenant') ?? undefined;
      const body = url.pathname === CONTAINER_LIST_PATH ? await this.options.invoker.containerList(tenant) : await this.options.invoker.containerCounts(tenant);
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    }
    if (req.method !== 'POST' || req.url !== INVOKE_PATH) {
      return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"NOT_FOUND","message":"no such route"}}');
    }
    if (this.draining) {
      // Read, not run: the gateway sends it to another invoker.
      req.resume();
      return void res
        .writeHead(503, { 'content-type': 'application/json', connection: 'close' })
        .end(`{"error":{"code":"${DRAINING_CODE}","message":"this invoker is shutting down"}}`);
    }
    const { head, body } = decodeFrame<RequestHead>(await readBody(req, this.options.maxFrameBytes));
    let reply: ResponseHead;
    let replyBody: Buffer = Buffer.alloc(0);
    try {
      const response = await this.options.invoker.invoke({ ...head, body }, { stream: req.headers[STREAM_HEADER] === '1' });
      if (response.stream) {
        // The head now, the body as the function writes it; a failure mid-way cuts the response.
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.write(encodeHead({ ok: true, status: response.status, headers: response.headers, meta: response.meta, stream: true } satisfies ResponseHead));
        pipeline(response.stream, res, () => {});
        return;
      }
      reply = { ok: true, status: response.status, headers: response.headers, meta: response.meta };
      replyBody = response.body;
    } catch (err) {
      if (!(err instanceof FaasError)) throw err;
      reply = { ok: false, error: { code: err.code, status: err.status, message: err.message } };
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(encodeFrame(reply, replyBody));
  }

  /** Listens; resolves with the URL gateways should use. */
  async listen(host: string, port: number): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    return `${this.options.tls ? 'https' : 'http'}://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${address.port}`;
  }

  /**
   * Takes no new call from now on (answered INVOKER_DRAINING, and that connection closed); running calls go on.
   * It keeps listening and keeps idle connections open until close(): closing one a gateway has just written
   * a call on would lose that call (a reset, not an answer it can retry elsewhere).
   */
  drain(): void {
    this.draining = true;
  }

  async close(): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Keep-alive connections with no request in flight would hold close() open.
    this.server.closeIdleConnections();
    await closed;
  }
}

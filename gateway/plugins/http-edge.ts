// The HTTP edge: malformed and unsupported requests are answered here, in the API's error shape, before
// any route (and so any function) sees them. Node's parser errors, an Expect the gateway cannot meet, a
// bad Host, TRACE/CONNECT and over-long URLs all get `{"error":{"code","message"}}`.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';
import { ALLOWED_METHODS, checkIncoming } from '../edge/request-checks.js';
import { closeAfterAnswer, isRefused } from '../edge/refusals.js';

/** Node's parser errors (llhttp codes) that have a status of their own; the rest are 400. */
const PARSER_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, code: 'REQUEST_HEADER_FIELDS_TOO_LARGE', message: 'the request line and headers are larger than 16 KiB' },
  HPE_INVALID_METHOD: { status: 400, code: 'BAD_REQUEST', message: 'the request line does not start with a valid HTTP method' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'REQUEST_TIMEOUT', message: 'the request was not received in time' },
};

const REASONS: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/** Fastify's `clientErrorHandler`: answers a request Node could not parse, then closes the connection. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const known = (err.code && PARSER_ERRORS[err.code]) || { status: 400, code: 'BAD_REQUEST', message: 'the request is not valid HTTP/1.1' };
  const body = JSON.stringify({ error: { code: known.code, message: known.message } });
  if (!socket.writable) return void socket.destroy();
  socket.end(
    `HTTP/1.1 ${known.status} ${REASONS[known.status] ?? 'Bad Request'}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** Ends the connection once this refusal is out; requests pipelined behind it never run (see the hook). */
function closeAfter(request: FastifyRequest, reply: FastifyReply): void {
  closeAfterAnswer(request.raw.socket, reply.raw);
  void reply.header('connection', 'close');
}

/** Longest path segment the router takes as a parameter (fastify's maxParamLength, default 100). */
const MAX_PARAM_LENGTH = 100;

/** Fastify's `frameworkErrors`: a URL the router cannot decode, or a segment past its length; the URL is not echoed. */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const tooLong = error.message.includes('max param length');
  closeAfter(request, reply);
  void reply
    .code(tooLong ? 414 : 400)
    .type('application/json')
    .send(
      tooLong
        ? { error: { code: 'URI_TOO_LONG', message: `a path segment is longer than ${MAX_PARAM_LENGTH} characters` } }
        : { error: { code: 'BAD_REQUEST', message: 'the request URL is not valid (its percent-encoding cannot be decoded)' } },
    );
}

export function registerHttpEdge(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    const socket = request.raw.socket;
    if (isRefused(socket)) {
      // Never answered: the connection closes once the refusal is out.
      reply.hijack();
      return;
    }
    const rejection = checkIncoming(request.raw);
    if (!rejection) return;
    closeAfter(request, reply);
    void reply
      .code(rejection.status)
      .headers(rejection.headers ?? {})
      .type('application/json');
    return reply.send({ error: { code: rejection.code, message: rejection.message } });
  });
  // CONNECT never reaches a route: Node hands it over as a raw socket (and drops it when nobody listens).
  app.server.on('connect', (_req, socket: Socket) => {
    const body = JSON.stringify({ error: { code: 'METHOD_NOT_ALLOWED', message: 'method CONNECT is not served' } });
    socket.on('error', () => {});
    socket.end(
      `HTTP/1.1 405 Method Not Allowed\r\nconnection: close\r\nallow: ${ALLOWED_METHODS}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
  // `Expect: 100-continue` is answered by Node itself; any other expectation cannot be met.
  app.server.on('checkExpectation', (_req, res) => {
    const body = JSON.stringify({ error: { code: 'EXPECTATION_FAILED', message: 'only Expect: 100-continue is supported' } });
    res.writeHead(417, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
    res.end(body);
  });
}

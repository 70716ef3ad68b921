// One place that turns every error into `{"error":{"code","message"}}` with the right status.
import type { FastifyError, FastifyInstance } from 'fastify';
import { FaasError } from '../../core/errors.js';

/** Fastify's own error codes that are the client's fault, with the status and code we answer. */
const FASTIFY_CODES: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'BAD_REQUEST' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'BAD_REQUEST' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'BAD_REQUEST' },
};

export function errorReply(status: number, code: string, message: string) {
  return { status, body: { error: { code, message } } };
}

interface AjvIssue {
  instancePath?: string;
  message?: string;
  params?: { additionalProperty?: string; propertyName?: string };
}

/** Ajv's message plus the field it is about, e.g. `body must NOT have additional properties ("memory")`. */
function describeValidation(error: FastifyError): string {
  const issue = (error.validation as AjvIssue[] | undefined)?.[0];
  const field = issue?.params?.additionalProperty ?? issue?.params?.propertyName;
  return field ? `${error.message} ("${field}")` : error.message;
}

export function mapError(error: FastifyError | Error): { status: number; body: { error: { code: string; message: string } } } {
  if (error instanceof FaasError) return errorReply(error.status, error.code, error.message);
  const fe = error as FastifyError;
  if (fe.validation) {
    return errorReply(400, 'BAD_REQUEST', `invalid request: ${describeValidation(fe)}`);
  }
  if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (error instanceof SyntaxError && fe.statusCode === 400)) {
    return errorReply(400, 'BAD_REQUEST', `the body is not valid JSON: ${error.message}`);
  }
  const known = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (known) return errorReply(known.status, known.code, error.message);
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return errorReply(fe.statusCode, 'BAD_REQUEST', error.message);
  }
  return errorReply(500, 'INTERNAL', 'internal error; see the platform log');
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    // The caller left (or was cut off at a limit) before its request was in: nobody to answer, nothing broken.
    // (The platform's own errors keep their answer: a timed-out upload's 504 still reaches a caller that waits.)
    if (!(error instanceof FaasError) && (request.raw.socket?.destroyed || request.raw.aborted)) {
      request.log.debug({ url: request.url, reason: error.message }, 'caller left before its request was complete');
      return reply
        .code(400)
        .type('application/json')
        .send({ error: { code: 'CLIENT_CLOSED', message: 'the request was not complete' } });
    }
    const { status, body } = mapError(error);
    if (status >= 500 && !(error instanceof FaasError)) request.log.error({ err: error }, 'request failed');
    return reply.code(status).type('application/json').send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } }),
  );
}

// The async HTTP trigger: `/async/fn/:name[/*]` keeps the request as a job and answers 202 at once;
// the function runs it later (with retries), and the result is read at /api/v1/invocations/:id.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BadRequestError, FunctionNotFoundError } from '../../core/errors.js';
import type { AsyncQueues } from '../../triggers/async-queues.js';
import { requestFingerprint, type Idempotency } from '../../triggers/job-ids.js';
import type { JobData } from '../../triggers/job.js';
import type { FunctionRegistry } from '../../registry/function-registry.js';
import { resolveFunctionPath } from '../trigger/function-path.js';
import { pickVersion, splitQualifier } from '../../core/releases.js';
import { splitFunctionId } from '../../core/function-spec.js';
import { forwardedHeaders, type EdgeOrigin } from '../edge/forwarded-headers.js';
import { localHostProblem } from '../../triggers/callback-guard.js';
import { asyncAccepted } from '../schemas/job.js';

/** Request headers this route consumes, not kept with the job (besides what the edge never forwards). */
const CONSUMED = ['idempotency-key', 'x-callback-url'];
const MAX_KEY_CHARS = 255;

export interface AsyncRoutesDeps {
  registry: FunctionRegistry;
  queues: AsyncQueues;
  /** Throws QuotaExceededError when the function's tenant is past a quota. */
  admit?: (fn: string) => void;
  /** The public URL's host and scheme: what the function sees as its URL's origin. */
  origin: EdgeOrigin;
  /** Callbacks to loopback and link-local addresses allowed (FAAS_CALLBACK_ALLOW_LOCAL). */
  callbackAllowLocal?: boolean;
}

/** A callback must be an absolute http(s) URL, and not to this host unless allowed. */
export function checkCallbackUrl(value: string, allowLocal = false): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BadRequestError(`X-Callback-Url "${value}" is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BadRequestError(`X-Callback-Url must be http or https, not ${url.protocol}`);
  const problem = allowLocal ? undefined : localHostProblem(url);
  if (problem) throw new BadRequestError(problem);
  return url.toString();
}

export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_CHARS) {
    throw new BadRequestError(`Idempotency-Key must be one header of 1 to ${MAX_KEY_CHARS} characters`);
  }
  return key;
}

/**
 * Whose Idempotency-Key a key is on the async trigger, which takes no token: whoever holds the credential
 * the call carries (a hash of its Authorization header, whatever it is: a platform token or the
 * function's own), or, on a call with none, the whole request itself. So an anonymous caller can never
 * claim a key for a caller with a credential, and two anonymous calls share an invocation only when
 * they are the same request in every part the job keeps (a retry), which gives neither anything new.
 */
export function callerScope(authorization: string | string[] | undefined, wholeRequest: () => string): string {
  const credential = Array.isArray(authorization) ? authorization.join('\n') : authorization;
  if (credential) return `credential:${createHash('sha256').update(credential).digest('hex')}`;
  return `anonymous:${wholeRequest()}`;
}

/** Registered inside the trigger scope, whose content parser hands every body over as a raw Buffer. */
export function asyncRoutes(scope: FastifyInstance, deps: AsyncRoutesDeps): void {
  const handler = async (request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply) => {
    const { fn: name, qualifier, path, rawQuery } = resolveFunctionPath(request.url, '/async/fn/', request.params.name, (id) => deps.registry.has(id));
    // A dotted name is a tenant function's id: reachable only as /async/fn/<tenant>/<name>.
    const spec = name === splitQualifier(request.params.name).name && name.includes('.') ? undefined : await deps.registry.get(name);
    if (!spec) throw new FunctionNotFoundError(request.params.name);
    // A version or alias that does not exist is refused now, not accepted to fail later.
    if (qualifier) pickVersion(spec.releases, splitFunctionId(name).name, qualifier, undefined);
    deps.admit?.(name);
    const callback = request.headers['x-callback-url'];
    const callbackUrl = typeof callback === 'string' ? checkCallbackUrl(callback, deps.callbackAllowLocal) : undefined;
    const headers = forwardedHeaders(request.headers, deps.origin, request.ip);
    for (const consumed of CONSUMED) delete headers[consumed];
    const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
    const data: JobData = {
      trigger: 'async',
      fn: name,
      ...(qualifier ? { qualifier } : {}),
      acceptedAt: Date.now(),
      request: { method: request.method, path, rawQuery, headers, body: body.toString('base64') },
      ...(callbackUrl ? { callbackUrl } : {}),
    };
    const key = idempotencyKeyOf(request);
    let idempotency: Idempotency | undefined;
    if (key !== undefined) {
      const contentType = typeof request.headers['content-type'] === 'string' ? request.headers['content-type'] : undefined;
      const fingerprinted = { method: request.method, path, query: rawQuery, contentType, body, callbackUrl, qualifier };
      idempotency = {
        key,
        scope: callerScope(request.headers.authorization, () => requestFingerprint({ ...fingerprinted, headers })),
        fingerprint: requestFingerprint(fingerprinted),
      };
    }
    const id = await deps.queues.submit(spec, data, idempotency);
    const location = `/api/v1/invocations/${id}`;
    return reply.code(202).header('location', location).header('x-faas-invocation-id', id).send({ invocationId: id, status: 'queued', statusUrl: location });
  };
  const schema = { response: { 202: asyncAccepted } };
  scope.all('/async/fn/:name', { schema }, handler);
  scope.all('/async/fn/:name/*', { schema }, handler);
}

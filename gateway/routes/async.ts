// The async HTTP trigger: `/async/fn/:name[/*]` keeps the request as a job and answers 202 at once;
// the function runs it later (with retries), and the result is read at /api/v1/invocations/:id.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BadRequestError, FunctionNotFoundError } from '../../invoker/core/errors.js';
import type { AsyncQueues } from '../../invoker/async/async-queues.js';
import type { JobData } from '../../invoker/async/job.js';
import type { FunctionRegistry } from '../../invoker/registry/function-registry.js';
import { resolveFunctionPath } from './function-path.js';
import { localHostProblem } from '../../invoker/async/callback-guard.js';

/** Request headers not kept with the job: one hop's, the platform's own, and the ones this route consumes. */
const NOT_KEPT = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-connection', 'content-length', 'idempotency-key', 'x-callback-url']);
const MAX_KEY_CHARS = 255;

export interface AsyncRoutesDeps {
  registry: FunctionRegistry;
  queues: AsyncQueues;
  /** Throws QuotaExceededError when the function's tenant is past a quota. */
  admit?: (fn: string) => void;
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

/** Registered inside the trigger scope, whose content parser hands every body over as a raw Buffer. */
export function asyncRoutes(scope: FastifyInstance, deps: AsyncRoutesDeps): void {
  const handler = async (request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply) => {
    const { fn: name, path, rawQuery } = resolveFunctionPath(request.url, '/async/fn/', request.params.name, (id) => deps.registry.has(id));
    const spec = name === request.params.name && name.includes('.') ? undefined : await deps.registry.get(name);
    if (!spec) throw new FunctionNotFoundError(request.params.name);
    deps.admit?.(name);
    const callback = request.headers['x-callback-url'];
    const callbackUrl = typeof callback === 'string' ? checkCallbackUrl(callback, deps.callbackAllowLocal) : undefined;
    const headers: Record<string, string | string[]> = {};
    for (const [key, value] of Object.entries(request.headers)) {
      if (value !== undefined && !NOT_KEPT.has(key) && !key.startsWith('x-faas-')) headers[key] = value;
    }
    const data: JobData = {
      trigger: 'async',
      fn: name,
      acceptedAt: Date.now(),
      request: {
        method: request.method,
        path,
        rawQuery,
        headers,
        body: ((request.body as Buffer | undefined) ?? Buffer.alloc(0)).toString('base64'),
      },
      ...(callbackUrl ? { callbackUrl } : {}),
    };
    const id = await deps.queues.submit(spec, data, idempotencyKeyOf(request));
    const location = `/api/v1/invocations/${id}`;
    return reply.code(202).header('location', location).header('x-faas-invocation-id', id).send({ invocationId: id, status: 'queued', statusUrl: location });
  };
  scope.all('/async/fn/:name', handler);
  scope.all('/async/fn/:name/*', handler);
}

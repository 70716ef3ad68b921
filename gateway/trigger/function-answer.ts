// Pure: the response headers a caller gets for a function's answer — the function's own, less those that belong
// to one hop or would reach beyond the function on the gateway's origin, plus the platform's x-faas-* headers.
import type { InvocationResponse } from '../../core/invoker.js';
import { VERSION_HEADER } from '../../core/releases.js';
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
/** Pages under /fn run as scripts of an opaque origin: no access to the gateway origin's storage or cookies. */
const FN_SANDBOX = 'sandbox allow-scripts allow-forms allow-popups allow-popups-to-escape-sandbox allow-modals allow-downloads';

export type AnswerHeaders = Record<string, string | string[]>;

/**
 * `cookiePrefix`: the function's mount point when it was called under /fn (`/fn/<name>`), undefined at its own
 * host. Under /fn a function's pages share the gateway's origin with the dashboard (and its token in
 * sessionStorage) and with every other function: they are rendered as a sandbox of an origin of their own, their
 * cookies are pinned to their own prefix, and origin-wide instructions are dropped. At its own host a function
 * has a real origin and needs none of that, but still sets no cookie for a parent domain.
 */
export function answerHeaders(response: InvocationResponse, cookiePrefix: string | undefined): AnswerHeaders {
  const headers: AnswerHeaders = {};
  const own = response.headers;
  for (const key in own) if (!DROPPED.has(key)) headers[key] = own[key]!;
  const meta = response.meta;
  headers['x-faas-invocation-id'] = meta.invocationId;
  headers[VERSION_HEADER] = String(meta.version);
  const cookies = headers['set-cookie'];
  if (cookies !== undefined) headers['set-cookie'] = (Array.isArray(cookies) ? cookies : [cookies]).map((cookie) => scopeSetCookie(cookie, cookiePrefix));
  if (cookiePrefix !== undefined) {
    for (const name of ORIGIN_WIDE_HEADERS) delete headers[name];
    const csp = headers['content-security-policy'];
    headers['content-security-policy'] = csp === undefined ? FN_SANDBOX : [...(Array.isArray(csp) ? csp : [csp]), FN_SANDBOX];
  }
  headers['x-faas-cold-start'] = meta.coldStart ? 'true' : 'false';
  if (meta.coldStart && meta.initMs !== undefined) headers['x-faas-init-ms'] = meta.initMs.toFixed(1);
  // A stream's duration is known only at its end.
  if (!response.stream) headers['x-faas-duration-ms'] = meta.durationMs.toFixed(3);
  return headers;
}

// Pure: whether a request may go past the edge, or the error the gateway answers itself (so a malformed
// request never reaches a function, never costs its owner a container or an error on its bill).

export interface EdgeRejection {
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
}

/** Methods a function is served (the trigger answers 405 to any other). */
export const SERVED_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'QUERY']);
/** The Allow header of a 405. */
export const ALLOWED_METHODS = [...SERVED_METHODS].join(', ');

/** Methods no function may be asked to serve: TRACE/TRACK echo requests back (cross-site tracing), CONNECT tunnels. */
const REFUSED_METHODS = new Set(['TRACE', 'TRACK', 'CONNECT']);

/** Longest request target accepted (nginx's default large buffer is 8 KiB). */
export const MAX_URL_BYTES = 8_192;

// RFC 3986 host: reg-name (unreserved, sub-delims, pct-encoded), IPv4, or an IP literal in brackets; optional port.
const REG_NAME = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;
const IP_LITERAL = /^\[[0-9A-Fa-f:.]+(?:%25[A-Za-z0-9\-._~]+)?\]$/;

/** A Host header value is a valid authority: host with an optional port of 1–65535, nothing else. */
export function isValidHost(value: string): boolean {
  if (value.length === 0 || value.length > 255) return false;
  let host = value;
  const portAt = value.startsWith('[') ? value.indexOf(']:') + 1 : value.lastIndexOf(':');
  if (portAt > 0) {
    const port = value.slice(portAt + 1);
    if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65_535) return false;
    host = value.slice(0, portAt);
  } else if (value.startsWith('[') && !value.endsWith(']')) {
    return false;
  }
  if (host.startsWith('[')) return IP_LITERAL.test(host);
  return host.length > 0 && REG_NAME.test(host);
}

export function checkRequest(request: {
  method: string;
  url: string;
  httpVersion: string;
  host: string | string[] | undefined;
  /** How many Host headers the request carried. */
  hostHeaders: number;
}): EdgeRejection | undefined {
  if (REFUSED_METHODS.has(request.method.toUpperCase())) {
    return {
      status: 405,
      code: 'METHOD_NOT_ALLOWED',
      message: `method ${request.method} is not served`,
      headers: { allow: ALLOWED_METHODS },
    };
  }
  // Absolute-form targets (`GET http://host/fn/x`) are for proxies; the router and the function's path would disagree.
  if (!request.url.startsWith('/')) {
    return { status: 400, code: 'BAD_REQUEST', message: 'the request target must be a path starting with /' };
  }
  if (Buffer.byteLength(request.url) > MAX_URL_BYTES) {
    return { status: 414, code: 'URI_TOO_LONG', message: `the request target is longer than ${MAX_URL_BYTES} bytes` };
  }
  const host = request.host;
  if (Array.isArray(host) || request.hostHeaders > 1) return { status: 400, code: 'BAD_REQUEST', message: 'more than one Host header' };
  if (host === undefined) {
    if (request.httpVersion === '1.0') return undefined;
    return { status: 400, code: 'BAD_REQUEST', message: 'the Host header is missing' };
  }
  if (!isValidHost(host)) return { status: 400, code: 'BAD_REQUEST', message: 'the Host header is not a valid host[:port]' };
  return undefined;
}

/** checkRequest on a request as Node parsed it. */
export function checkIncoming(req: {
  method?: string | undefined;
  url?: string | undefined;
  httpVersion: string;
  headers: { host?: string | string[] | undefined };
  rawHeaders: string[];
}): EdgeRejection | undefined {
  return checkRequest({
    method: req.method ?? '',
    url: req.url ?? '/',
    httpVersion: req.httpVersion,
    host: req.headers.host,
    hostHeaders: countHost(req.rawHeaders),
  });
}

/** Node keeps only the first of several Host headers; a request with more is ambiguous and refused. */
function countHost(rawHeaders: string[]): number {
  let n = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.length === 4 && rawHeaders[i]!.toLowerCase() === 'host') n++;
  return n;
}

// Pure: what a function's answer may set in the browser. Under /fn every function shares the gateway's origin with
// the dashboard and every other tenant's functions, so its cookies are pinned to its own path and origin-wide
// instructions (Clear-Site-Data) are dropped; at its own host a function keeps its origin's headers, but no
// cookie may name a Domain (a cookie for the parent domain would reach every sibling function's host).

/** Response headers a function under /fn may not send: they act on the whole shared origin. */
export const ORIGIN_WIDE_HEADERS = ['clear-site-data'] as const;

/**
 * One Set-Cookie value made safe: its Domain attribute removed (host-only) and, with `pathPrefix` (a function
 * under /fn, e.g. `/fn/acme/shop`), its Path kept only if it lies inside that prefix, else set to it.
 */
export function scopeSetCookie(value: string, pathPrefix?: string): string {
  const [pair = '', ...attributes] = value.split(';');
  const kept: string[] = [];
  let path: string | undefined;
  for (const raw of attributes) {
    const attribute = raw.trim();
    const name = attribute.split('=', 1)[0]!.trim().toLowerCase();
    if (name === 'domain') continue;
    if (name === 'path') {
      path = attribute.slice(attribute.indexOf('=') + 1).trim();
      continue;
    }
    if (attribute) kept.push(attribute);
  }
  if (pathPrefix !== undefined && !(path !== undefined && within(path, pathPrefix))) path = pathPrefix;
  return [pair.trim(), ...(path !== undefined ? [`Path=${path}`] : []), ...kept].join('; ');
}

/** Whether a cookie path only ever matches requests under `prefix` (RFC 6265 path-match). */
function within(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);
}

// Pure: the request headers a function receives, rewritten at the edge as a reverse proxy does. The
// function's URL is built from the platform's public URL, never from the client's Host (which would let a
// caller change the path or break URL parsing in the function); the original host travels as
// x-forwarded-host. Hop-by-hop headers, Expect and the platform's own x-faas-* never pass.

import { HOP_BY_HOP_HEADERS } from '../../core/hop-by-hop.js';

/** Headers that describe one hop (RFC 9110 §7.6.1), Expect (answered by the edge), and ones set again here. */
const NOT_FORWARDED = new Set([
  ...HOP_BY_HOP_HEADERS,
  'expect',
  'content-length',
  'host',
  'forwarded',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-for',
  // Set by the platform under /fn; a caller's own would let it steer a function's links and redirects.
  'x-forwarded-prefix',
  // Client addresses other proxies set: a caller could choose them. The platform sets x-forwarded-for.
  'x-real-ip',
  'true-client-ip',
  'cf-connecting-ip',
  'x-client-ip',
  'x-cluster-client-ip',
  'fastly-client-ip',
]);

export interface EdgeOrigin {
  /** host[:port] of the platform's public URL. */
  publicHost: string;
  /** 'http' or 'https', of the public URL. */
  publicProto: string;
}

export function originOf(publicUrl: string): EdgeOrigin {
  const url = new URL(publicUrl);
  return { publicHost: url.host, publicProto: url.protocol.replace(/:$/, '') };
}

/** The headers to send on: the client's end-to-end headers plus host and x-forwarded-* set by the platform. */
export function forwardedHeaders(
  incoming: Record<string, string | string[] | undefined>,
  origin: EdgeOrigin,
  clientIp: string,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  // Names a client lists in Connection are hop-by-hop too.
  const listed =
    typeof incoming.connection === 'string'
      ? incoming.connection
          .toLowerCase()
          .split(',')
          .map((s) => s.trim())
      : [];
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || NOT_FORWARDED.has(name) || name.startsWith('x-faas-') || listed.includes(name)) continue;
    out[name] = value;
  }
  out.host = origin.publicHost;
  const host = incoming.host;
  out['x-forwarded-host'] = typeof host === 'string' && host ? host : origin.publicHost;
  out['x-forwarded-proto'] = origin.publicProto;
  out['x-forwarded-for'] = clientIp;
  return out;
}

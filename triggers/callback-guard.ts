// Where callbacks may not go: anyone who can submit an async call names its callback URL, so without a
// guard the platform would POST to its own host (the gateway's API, Redis, other services on loopback),
// to the cloud metadata service, to the Docker bridge or to anything else on the private network on the
// caller's behalf. Every address that is not public unicast is refused unless FAAS_CALLBACK_ALLOW_LOCAL
// is set. Checked three times: on the literal host at submission (localHostProblem), on every address
// DNS gives for a name at connect time (guardedLookup, so a name cannot be re-pointed after the check),
// and on the address the socket actually connected to (guardedConnector), which also covers literal IP
// hosts, for which net.connect never calls `lookup`.
import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, buildConnector } from 'undici';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Parses an IP address in any spelling Node or ipaddr.js accepts (brackets, zone id, `127.1`, `0x7f.1`, `2130706433`). */
function parseAddress(ip: string): Address | undefined {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  try {
    if (net.isIP(bare) !== 0) return ipaddr.parse(bare);
    // Odd IPv4 spellings (which WHATWG URL already turns into dotted quads, so only for raw strings).
    if (ipaddr.IPv4.isValid(bare)) return ipaddr.IPv4.parse(bare);
  } catch {
    return undefined;
  }
  return undefined;
}

const ipv4At = (parts: number[], hi: number): ipaddr.IPv4 => new ipaddr.IPv4([parts[hi]! >> 8, parts[hi]! & 0xff, parts[hi + 1]! >> 8, parts[hi + 1]! & 0xff]);

/**
 * The IPv4 address an IPv6 address carries and would reach: IPv4-mapped (`::ffff:a.b.c.d` in any
 * spelling), IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`) and 6to4 (`2002:AABB:CCDD::/48`).
 */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const p = address.parts;
  if (p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 0 && p[4] === 0 && (p[5] === 0xffff || p[5] === 0)) return ipv4At(p, 6);
  if (p[0] === 0x64 && p[1] === 0xff9b && p[2] === 0 && p[3] === 0 && p[4] === 0 && p[5] === 0) return ipv4At(p, 6);
  if (p[0] === 0x2002) return ipv4At(p, 1);
  return undefined;
}

function forbidden(address: Address): boolean {
  if (address.kind() === 'ipv4') {
    const v4 = address as ipaddr.IPv4;
    return v4.octets[0] === 0 || v4.range() !== 'unicast';
  }
  const v6 = address as ipaddr.IPv6;
  const inner = embeddedIPv4(v6);
  if (inner) return forbidden(inner);
  // Outside 2000::/3 nothing is global unicast (IANA), whatever ipaddr.js calls it (e.g. the rest of ::/8).
  return v6.range() !== 'unicast' || (v6.parts[0]! & 0xe000) !== 0x2000;
}

/**
 * Pure: whether a callback may not be sent to this IP address: anything ipaddr.js does not class as
 * unicast (loopback, private, link-local, unique-local, unspecified and 0.0.0.0/8, carrier-grade NAT,
 * multicast, broadcast, reserved, benchmarking, Teredo, ...), judged on the embedded IPv4 for IPv6 forms
 * that carry one. A string that is not an IP address (a host name) is not forbidden here: its DNS answers are.
 */
export function isForbiddenAddress(ip: string): boolean {
  const address = parseAddress(ip);
  return address !== undefined && forbidden(address);
}

/** Why a callback URL's literal host is refused, or undefined. */
export function localHostProblem(url: URL): string | undefined {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const name = host.toLowerCase().replace(/\.+$/, '');
  if (name === 'localhost' || name.endsWith('.localhost') || isForbiddenAddress(host)) {
    return `X-Callback-Url may not point to this host or a local or private address (${url.hostname}); set FAAS_CALLBACK_ALLOW_LOCAL=1 to allow it`;
  }
  return undefined;
}

const refused = (message: string): NodeJS.ErrnoException => Object.assign(new Error(message), { code: 'ECALLBACKLOCAL' });

/** A `lookup` for net.connect that fails when any address of the name is forbidden. */
export function guardedLookup(
  hostname: string,
  options: dns.LookupOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void,
): void {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const local = addresses.find((a) => isForbiddenAddress(a.address));
    if (local) return callback(refused(`callback host ${hostname} resolves to a local or private address (${local.address})`), '', 0);
    if (addresses.length === 0) return callback(Object.assign(new Error(`callback host ${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
}

/** Why a connected socket's peer is refused, or undefined (an unknown peer is refused). */
function peerProblem(socket: net.Socket, hostname: string): NodeJS.ErrnoException | undefined {
  const address = socket.remoteAddress;
  if (address !== undefined && !isForbiddenAddress(address)) return undefined;
  return refused(`callback to ${hostname} refused: connected to a local or private address (${address ?? 'unknown'})`);
}

/**
 * An undici `connect` that refuses a forbidden literal IP host before connecting, resolves names with
 * guardedLookup, and checks the address each socket actually connected to, destroying it before anything
 * is written when that is forbidden (for https the TCP connection is made and checked first, and TLS is
 * then started on it, so not even a ClientHello goes out). Refusals have code ECALLBACKLOCAL.
 * `options` go to undici's buildConnector; a `lookup` there replaces guardedLookup (tests).
 */
export function guardedConnector(options: buildConnector.BuildOptions = {}): buildConnector.connector {
  const connect = buildConnector({ lookup: guardedLookup, ...options } as buildConnector.BuildOptions);
  return (opts, callback) => {
    const host = opts.hostname.replace(/^\[|\]$/g, '');
    if (net.isIP(host) !== 0 && isForbiddenAddress(host)) {
      process.nextTick(callback, refused(`callback to ${opts.hostname} refused: a local or private address`), null);
      return;
    }
    /** Passes a connected socket on to `next` only when its peer is allowed. */
    const checked =
      (next: (socket: net.Socket) => void): buildConnector.Callback =>
      (err, socket) => {
        if (err) return callback(err, null);
        const problem = peerProblem(socket!, opts.hostname);
        if (!problem) return next(socket!);
        socket!.destroy();
        callback(problem, null);
      };
    if (opts.protocol === 'https:' && !opts.httpSocket) {
      connect(
        { ...opts, protocol: 'http:', port: opts.port || '443' },
        checked((tcp) => connect({ ...opts, httpSocket: tcp }, callback)),
      );
    } else {
      connect(
        opts,
        checked((socket) => callback(null, socket)),
      );
    }
  };
}

/** An undici Agent whose every connection goes through guardedConnector. */
export function createGuardedAgent(options: buildConnector.BuildOptions = {}): Agent {
  return new Agent({ connect: guardedConnector(options) });
}

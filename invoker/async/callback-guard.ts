// Where callbacks may not go: anyone who can submit an async call names its callback URL, so without a
// guard the platform would POST to its own host (the gateway's API, Redis, other services on loopback)
// or to the cloud metadata service on the caller's behalf. Loopback, unspecified and link-local
// addresses are refused unless FAAS_CALLBACK_ALLOW_LOCAL is set; checked on the literal host at
// submission and on every address DNS gives at connect time (so a name cannot be re-pointed after the check).
import dns from 'node:dns';
import net from 'node:net';

/** Pure: whether an IP address is loopback, unspecified or link-local (IPv4, IPv6 and IPv4-mapped IPv6). */
export function isLocalAddress(ip: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const address = mapped ? mapped[1]! : ip;
  if (net.isIPv4(address)) {
    const [a, b] = address.split('.').map(Number) as [number, number];
    return a === 127 || a === 0 || (a === 169 && b === 254);
  }
  if (net.isIPv6(address)) {
    const lower = address.toLowerCase();
    return lower === '::1' || lower === '::' || /^fe[89ab][0-9a-f]:/.test(lower);
  }
  return false;
}

/** Why a callback URL's literal host is refused, or undefined. */
export function localHostProblem(url: URL): string | undefined {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost') || isLocalAddress(host)) {
    return `X-Callback-Url may not point to this host or a link-local address (${url.hostname}); set FAAS_CALLBACK_ALLOW_LOCAL=1 to allow it`;
  }
  return undefined;
}

/** A `lookup` for net.connect that fails when any address of the name is local. */
export function guardedLookup(
  hostname: string,
  options: dns.LookupOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void,
): void {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const local = addresses.find((a) => isLocalAddress(a.address));
    if (local) return callback(Object.assign(new Error(`callback host ${hostname} resolves to a local address (${local.address})`), { code: 'ECALLBACKLOCAL' }), '', 0);
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
}

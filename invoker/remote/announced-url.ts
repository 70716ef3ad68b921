// Pure: the URL an invoker announces to gateways. FAAS_INVOKER_URL when set; else the address it listens on,
// unless that is a wildcard (0.0.0.0, ::) — nobody can dial that — in which case the address this host used
// to reach the shared Redis: the interface other hosts of the cluster reach it on too (Swarm, Kubernetes
// with host networking, hosts on one LAN), as etcd and Consul pick their advertise address.
import net from 'node:net';

export function announcedUrl(listenUrl: string, configured: string | undefined, redisLocalAddress: string | undefined): string {
  if (configured) return configured;
  const url = new URL(listenUrl);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  if (!wildcard || !redisLocalAddress) return listenUrl;
  // An IPv4 address seen through a dual-stack socket: ::ffff:10.0.0.2 is 10.0.0.2.
  const address = redisLocalAddress.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  url.hostname = net.isIPv6(address) ? `[${address}]` : address;
  return url.toString().replace(/\/$/, '');
}

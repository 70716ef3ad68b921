// Pure: the URL an invoker announces to gateways. FAAS_INVOKER_URL when set; else the URL it serves at,
// unless it listens on a wildcard address (FAAS_HOST 0.0.0.0 or ::) — then the address this host used to
// reach the shared Redis, with the server's scheme and port: the interface the cluster's other hosts reach
// it on too (Swarm, host-networked Kubernetes, hosts on one LAN), as etcd and Consul pick an advertise address.
import net from 'node:net';

export interface AnnouncedUrlInput {
  /** The server's own URL (a wildcard listen address shows as 127.0.0.1 there). */
  serverUrl: string;
  /** FAAS_HOST. */
  listenHost: string;
  /** FAAS_INVOKER_URL. */
  configured: string | undefined;
  /** The local address of this process's Redis connection, when connected. */
  redisLocalAddress: string | undefined;
}

export function announcedUrl({ serverUrl, listenHost, configured, redisLocalAddress }: AnnouncedUrlInput): string {
  if (configured) return configured;
  const wildcard = ['0.0.0.0', '::', '[::]', ''].includes(listenHost);
  if (!wildcard || !redisLocalAddress) return serverUrl;
  // An IPv4 address seen through a dual-stack socket: ::ffff:10.0.0.2 is 10.0.0.2.
  const address = redisLocalAddress.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  const url = new URL(serverUrl);
  url.hostname = net.isIPv6(address) ? `[${address}]` : address;
  return url.toString().replace(/\/$/, '');
}

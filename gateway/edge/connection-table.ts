// Which connections the gateway keeps when clients open too many: a cap per client address and one in total. Pure:
// no sockets, no timers; the wiring (edge/connection-guard.ts) applies what it decides.
//
// At the total cap a new connection is not refused while some connection is doing nothing useful: the one that has
// been idle (between requests) or receiving a request the longest is closed for it, so a flood of slow or stalled
// clients cannot keep a fresh caller out. Connections whose request is being handled (a function running, an
// answer going out) are never closed this way; when every connection is such a one, the new one is refused.

export interface ConnectionLimits {
  /** Open connections in all; default (platform/config.ts) half the process's file descriptor limit, at most 10 000. */
  maxConnections: number;
  /** Open connections from one client address (an IPv6 client by its /64). */
  maxPerClient: number;
}

export type Admission<C> = { kind: 'accept' } | { kind: 'evict'; victim: C } | { kind: 'refuse'; reason: 'client_limit' | 'total_limit' };

interface Entry {
  client: string;
  /** Handling a request: not to be closed for a newcomer. */
  busy: boolean;
}

export class ConnectionTable<C> {
  private readonly entries = new Map<C, Entry>();
  private readonly perClient = new Map<string, number>();
  /** The connections that may be closed for a newcomer, the longest-waiting first (a Map keeps insertion order). */
  private readonly evictable = new Map<C, true>();

  constructor(private readonly limits: ConnectionLimits) {}

  get size(): number {
    return this.entries.size;
  }

  /** A new connection from `client` (an address key, see clientKey): what to do with it. An evicted victim is forgotten here. */
  admit(conn: C, client: string): Admission<C> {
    const fromClient = this.perClient.get(client) ?? 0;
    if (fromClient >= this.limits.maxPerClient) return { kind: 'refuse', reason: 'client_limit' };
    let victim: C | undefined;
    if (this.entries.size >= this.limits.maxConnections) {
      victim = this.evictable.keys().next().value;
      if (victim === undefined) return { kind: 'refuse', reason: 'total_limit' };
      this.closed(victim);
    }
    this.entries.set(conn, { client, busy: false });
    this.perClient.set(client, fromClient + 1);
    this.evictable.set(conn, true);
    return victim === undefined ? { kind: 'accept' } : { kind: 'evict', victim };
  }

  /** A request on `conn` is being handled (its body read or relayed): it is kept. */
  busy(conn: C): void {
    const entry = this.entries.get(conn);
    if (!entry) return;
    entry.busy = true;
    this.evictable.delete(conn);
  }

  /** `conn` waits for a request (after an answer) or is receiving one: it may be closed for a newcomer, after those waiting longer. */
  waiting(conn: C): void {
    const entry = this.entries.get(conn);
    if (!entry) return;
    entry.busy = false;
    this.evictable.delete(conn);
    this.evictable.set(conn, true);
  }

  closed(conn: C): void {
    const entry = this.entries.get(conn);
    if (!entry) return;
    this.entries.delete(conn);
    this.evictable.delete(conn);
    const left = (this.perClient.get(entry.client) ?? 1) - 1;
    if (left > 0) this.perClient.set(entry.client, left);
    else this.perClient.delete(entry.client);
  }
}

/** The address a per-client cap counts by: an IPv4 address (also IPv4-mapped IPv6), or an IPv6 address's /64. */
export function clientKey(address: string | undefined): string {
  if (!address) return '?';
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  if (!address.includes(':')) return address;
  // The first four groups of the expanded address: one /64, what one IPv6 host usually gets.
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

// The Docker network of functions deployed with outbound network, and the host firewall rules that keep them
// off this host, the other containers and private ranges. Functions reach the internet through Docker's NAT.
//
// Rules live in two chains of our own, so installing them again replaces them and removing them is clean:
//   FAAS-EGRESS (jumped to from DOCKER-USER, the FORWARD path): refuses what enters from the function bridge
//     towards private, loopback, link-local, multicast and special-purpose IPv4 ranges, except what the operator allows.
//   FAAS-INPUT (jumped to from INPUT): refuses everything from the function bridge to this host itself (any of its
//     addresses, the bridge gateway included), except replies to connections the host opened.
// IPv6 is off on the network; the same chains in ip6tables drop any IPv6 (link-local included) from the bridge.
//
// Ownership: the rules are host-wide and only ever drop traffic from the function network, so every platform
// process installs them at start (idempotent: left alone when already as wanted) and none removes them on close;
// removing them while another platform on the host still runs functions on the network would open it.
// `removeEgressRules` exists for uninstalling by hand.
import { readFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import type Dockerode from 'dockerode';

/** Name of the Docker network functions with outbound network join (NetworkMode). */
export const FUNCTION_NETWORK = 'faas-egress';
/** Its Linux bridge interface (Docker's default would be br-<id>, which changes if the network is recreated). */
export const FUNCTION_BRIDGE = 'faas-egress0';
export const EGRESS_CHAIN = 'FAAS-EGRESS';
export const INPUT_CHAIN = 'FAAS-INPUT';

/**
 * Destinations a function never reaches unless the operator allows them (FAAS_FUNCTION_NETWORK_ALLOW): every range
 * of IANA's IPv4 Special-Purpose Address Registry that is not globally reachable (RFC 6890 and updates), multicast,
 * and the reserved 240/4 (broadcast included). Documentation and benchmarking ranges are often used as real LANs.
 */
export const BLOCKED_CIDRS = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '169.254.0.0/16',
  '127.0.0.0/8',
  '0.0.0.0/8',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '192.88.99.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
] as const;

/**
 * Refused, not silently dropped, so a function's connect fails at once naming the address (ECONNREFUSED for TCP,
 * EHOSTUNREACH otherwise) instead of hanging until its timeout.
 */
const refuse = (match: string[]): Rule[] => [
  [...match, '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
  [...match, '-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited'],
];

const ICC = 'com.docker.network.bridge.enable_icc';
const BRIDGE_NAME = 'com.docker.network.bridge.name';

export interface FunctionNetwork {
  name: string;
  id: string;
  /** IPv4 subnet Docker gave the network, e.g. 172.18.0.0/16. */
  subnet: string;
  /** This host's address on the network. */
  gateway: string;
  /** Linux bridge interface. */
  bridge: string;
}

/** One iptables (or ip6tables) command's arguments, without the program name. */
export type Rule = string[];

/** A chain of ours and the built-in or Docker chain that jumps to it. */
export interface Jump {
  from: string;
  chain: string;
}

export interface RuleSet {
  /** Created if missing (Docker normally creates DOCKER-USER) and jumped to from FORWARD. */
  parents: string[];
  jumps: Jump[];
  /** `-A <chain> …` commands: the whole content of our chains, in order. */
  rules: Rule[];
}

/**
 * One allowance as iptables matches: `<cidr>` (any port, never this host), `<cidr>:<port>` (that TCP port,
 * on this host too when the address is one of its own) or `host:<port>` (that TCP port of the host at the
 * network's gateway address). Each returns before the refusals of the chain it belongs to.
 */
function allowRules(entry: string, fromBridge: string[], gateway: string | undefined): Rule[] {
  const at = entry.lastIndexOf(':');
  if (at === -1) return [['-A', EGRESS_CHAIN, ...fromBridge, '-d', entry, '-j', 'RETURN']];
  const target = entry.slice(0, at);
  const port = ['-p', 'tcp', '--dport', entry.slice(at + 1)];
  if (target === 'host') return gateway ? [['-A', INPUT_CHAIN, ...fromBridge, '-d', `${gateway}/32`, ...port, '-j', 'RETURN']] : [];
  return [
    ['-A', EGRESS_CHAIN, ...fromBridge, '-d', target, ...port, '-j', 'RETURN'],
    ['-A', INPUT_CHAIN, ...fromBridge, '-d', target, ...port, '-j', 'RETURN'],
  ];
}

/**
 * Pure: the IPv4 rules for the function network. `subnet` is the network's, `bridgeInterface` its bridge,
 * `allow` destinations inside the blocked ranges (or services of this host) that functions may reach
 * (config.ts's FAAS_FUNCTION_NETWORK_ALLOW forms), `gateway` this host's address on the network.
 */
export function egressRules(
  subnet: string,
  bridgeInterface: string,
  allow: readonly string[] = [],
  resolvers: readonly string[] = [],
  gateway?: string,
): RuleSet {
  const fromBridge = ['-i', bridgeInterface];
  const allowed = allow.flatMap((entry) => allowRules(entry, fromBridge, gateway));
  return {
    parents: ['DOCKER-USER'],
    jumps: [
      { from: 'DOCKER-USER', chain: EGRESS_CHAIN },
      { from: 'INPUT', chain: INPUT_CHAIN },
    ],
    rules: [
      // Functions cannot open raw sockets (no capabilities), but a source outside the subnet is dropped anyway.
      ['-A', EGRESS_CHAIN, ...fromBridge, '!', '-s', subnet, '-j', 'DROP'],
      ...allowed.filter((rule) => rule[1] === EGRESS_CHAIN),
      // Docker's embedded DNS forwards a function's lookups from its own namespace to the host's resolvers,
      // often on a private address: port 53 of those, nothing else of them.
      ...resolvers.flatMap((ip) =>
        ['udp', 'tcp'].map((proto) => ['-A', EGRESS_CHAIN, ...fromBridge, '-d', `${ip}/32`, '-p', proto, '--dport', '53', '-j', 'RETURN']),
      ),
      ...BLOCKED_CIDRS.flatMap((cidr) => refuse(['-A', EGRESS_CHAIN, ...fromBridge, '-d', cidr])),
      ['-A', INPUT_CHAIN, ...fromBridge, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'RETURN'],
      ...allowed.filter((rule) => rule[1] === INPUT_CHAIN),
      ...refuse(['-A', INPUT_CHAIN, ...fromBridge]),
    ],
  };
}

/** Pure: the IPv6 rules. The network has IPv6 off, so nothing IPv6 from the bridge goes anywhere. */
export function egressRules6(bridgeInterface: string): RuleSet {
  return {
    // ip6tables has no DOCKER-USER while Docker's IPv6 is off: FORWARD itself.
    parents: [],
    jumps: [
      { from: 'FORWARD', chain: EGRESS_CHAIN },
      { from: 'INPUT', chain: INPUT_CHAIN },
    ],
    rules: [
      ['-A', EGRESS_CHAIN, '-i', bridgeInterface, '-j', 'DROP'],
      ['-A', INPUT_CHAIN, '-i', bridgeInterface, '-j', 'DROP'],
    ],
  };
}

/** Runs one iptables-family command; resolves with its stdout, rejects when it exits non-zero. */
export type IptablesRunner = (program: 'iptables' | 'ip6tables', args: string[]) => Promise<string>;

const execFileAsync = promisify(execFile);

/** execFile, no shell; `-w` waits for the xtables lock Docker also takes. */
export const runIptables: IptablesRunner = async (program, args) => {
  const { stdout } = await execFileAsync(program, ['-w', '5', ...args], { timeout: 15_000 });
  return stdout;
};

const succeeds = (p: Promise<unknown>) =>
  p.then(
    () => true,
    () => false,
  );

async function chainExists(run: IptablesRunner, program: 'iptables' | 'ip6tables', chain: string): Promise<boolean> {
  return succeeds(run(program, ['-n', '-L', chain]));
}

/** Our chain already holds exactly `rules` (each present, and no other). */
async function chainIsAsWanted(run: IptablesRunner, program: 'iptables' | 'ip6tables', chain: string, rules: Rule[]): Promise<boolean> {
  const listed = await run(program, ['-S', chain]).catch(() => undefined);
  if (listed === undefined) return false;
  // `-S chain` prints `-N chain`, then one `-A chain …` line per rule.
  const count = listed.split('\n').filter((line) => line.startsWith('-A ')).length;
  if (count !== rules.length) return false;
  for (const rule of rules) {
    if (!(await succeeds(run(program, ['-C', ...rule.slice(1)])))) return false;
  }
  return true;
}

/** Creates, fills and jumps to our chains; idempotent, and leaves chains already as wanted untouched. */
export async function installRules(run: IptablesRunner, program: 'iptables' | 'ip6tables', set: RuleSet): Promise<void> {
  for (const parent of set.parents) {
    if (!(await chainExists(run, program, parent))) {
      await run(program, ['-N', parent]);
    }
    if (!(await succeeds(run(program, ['-C', 'FORWARD', '-j', parent])))) await run(program, ['-I', 'FORWARD', '1', '-j', parent]);
  }
  for (const { chain } of set.jumps) {
    const rules = set.rules.filter((rule) => rule[1] === chain);
    if (await chainIsAsWanted(run, program, chain, rules)) continue;
    if (await chainExists(run, program, chain)) await run(program, ['-F', chain]);
    else await run(program, ['-N', chain]);
    for (const rule of rules) await run(program, rule);
  }
  for (const { from, chain } of set.jumps) {
    if (!(await succeeds(run(program, ['-C', from, '-j', chain])))) await run(program, ['-I', from, '1', '-j', chain]);
  }
}

/** Deletes the jumps and our chains; what is already gone is skipped. Docker's DOCKER-USER stays. */
export async function removeRules(run: IptablesRunner, program: 'iptables' | 'ip6tables', set: RuleSet): Promise<void> {
  for (const { from, chain } of set.jumps) {
    while (await succeeds(run(program, ['-C', from, '-j', chain]))) await run(program, ['-D', from, '-j', chain]);
  }
  for (const { chain } of set.jumps) {
    if (!(await chainExists(run, program, chain))) continue;
    await run(program, ['-F', chain]);
    await run(program, ['-X', chain]);
  }
}

const hasIpv6 = () => existsSync('/proc/sys/net/ipv6');

/** Installs the IPv4 rules and, where the kernel has IPv6, the IPv6 ones. Rejects on any failure. */
export async function installEgressRules(network: FunctionNetwork, allow: readonly string[], run: IptablesRunner = runIptables): Promise<void> {
  await installRules(run, 'iptables', egressRules(network.subnet, network.bridge, allow, await hostResolvers(), network.gateway));
  if (hasIpv6()) await installRules(run, 'ip6tables', egressRules6(network.bridge));
}

/** Uninstalls by hand (see Ownership above): platforms do not call it on close. */
export async function removeEgressRules(run: IptablesRunner = runIptables): Promise<void> {
  await removeRules(run, 'iptables', egressRules('0.0.0.0/0', FUNCTION_BRIDGE));
  if (hasIpv6()) await removeRules(run, 'ip6tables', egressRules6(FUNCTION_BRIDGE));
}

const statusOf = (err: unknown) => (err as { statusCode?: number }).statusCode;

/**
 * Creates the function network unless it exists, and reads it back. Refuses one by that name that is not
 * ours as wanted (another driver, IPv6 on, containers allowed to talk to each other, internal).
 */
export async function ensureFunctionNetwork(docker: Dockerode): Promise<FunctionNetwork> {
  let info = await inspect(docker);
  if (!info) {
    try {
      await docker.createNetwork({
        Name: FUNCTION_NETWORK,
        Driver: 'bridge',
        CheckDuplicate: true,
        EnableIPv6: false,
        Internal: false,
        Attachable: false,
        Labels: { 'faas.managed': 'true' },
        Options: { [ICC]: 'false', [BRIDGE_NAME]: FUNCTION_BRIDGE },
      });
    } catch (err) {
      // 409: another platform created it meanwhile (the fixed bridge name makes a second one fail too).
      if (statusOf(err) !== 409) throw err;
    }
    info = await inspect(docker);
    if (!info) throw new Error(`Docker network ${FUNCTION_NETWORK} was created but cannot be inspected`);
  }
  const options = info.Options ?? {};
  const problems = [
    info.Driver !== 'bridge' && `driver ${info.Driver}, not bridge`,
    info.EnableIPv6 && 'IPv6 enabled',
    options[ICC] !== 'false' && `${ICC} is not false`,
    info.Internal && 'internal (no outbound access)',
  ].filter(Boolean);
  if (problems.length > 0) {
    throw new Error(
      `Docker network ${FUNCTION_NETWORK} exists but is not as the platform creates it (${problems.join(', ')}); remove it (docker network rm ${FUNCTION_NETWORK})`,
    );
  }
  const ipv4 = (info.IPAM?.Config ?? []).find((c) => c.Subnet && !c.Subnet.includes(':'));
  if (!ipv4?.Subnet || !ipv4.Gateway) throw new Error(`Docker network ${FUNCTION_NETWORK} has no IPv4 subnet and gateway`);
  const bridge = options[BRIDGE_NAME] ?? `br-${info.Id.slice(0, 12)}`;
  // The rules apply to this host's interfaces: an engine elsewhere (a VM, a remote socket) would not get them.
  if (!existsSync(`/sys/class/net/${bridge}`)) {
    throw new Error(
      `bridge ${bridge} of Docker network ${FUNCTION_NETWORK} is not on this host (Docker engine in a VM or elsewhere?): its firewall rules cannot be installed here`,
    );
  }
  return { name: FUNCTION_NETWORK, id: info.Id, subnet: ipv4.Subnet, gateway: ipv4.Gateway, bridge };
}

async function inspect(docker: Dockerode): Promise<Dockerode.NetworkInspectInfo | undefined> {
  try {
    const info = (await docker.getNetwork(FUNCTION_NETWORK).inspect()) as Dockerode.NetworkInspectInfo;
    // Docker resolves a network by name, full id or id prefix: only an exact name match is ours.
    return info.Name === FUNCTION_NETWORK ? info : undefined;
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

/** The IPv4 name servers of this host's /etc/resolv.conf (loopback ones excluded: Docker does not forward to those). */
export async function hostResolvers(file = '/etc/resolv.conf'): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return parseResolvers(text);
}

/** Pure: IPv4 `nameserver` addresses of a resolv.conf, loopback excluded. */
export function parseResolvers(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*nameserver\s+(\d{1,3}(?:\.\d{1,3}){3})\s*$/.exec(line);
    if (match && !match[1]!.startsWith('127.') && !out.includes(match[1]!)) out.push(match[1]!);
  }
  return out;
}

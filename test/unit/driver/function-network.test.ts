import { describe, expect, it } from 'vitest';
import {
  BLOCKED_CIDRS,
  EGRESS_CHAIN,
  INPUT_CHAIN,
  egressRules,
  egressRules6,
  installRules,
  removeRules,
  type IptablesRunner,
  parseResolvers,
} from '../../../invoker/driver/docker/function-network.js';

const SUBNET = '172.18.0.0/16';
const BR = 'faas-egress0';

describe('egressRules', () => {
  it.each<[string, string[], string[][]]>([
    [
      'no allow list: anti-spoofing, then every blocked range refused (TCP reset, else ICMP admin-prohibited)',
      [],
      [
        ['-A', 'FAAS-EGRESS', '-i', BR, '!', '-s', SUBNET, '-j', 'DROP'],
        ['-A', 'FAAS-EGRESS', '-i', BR, '-d', '10.0.0.0/8', '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
        ['-A', 'FAAS-EGRESS', '-i', BR, '-d', '10.0.0.0/8', '-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited'],
        ...[
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
        ].flatMap((cidr) => [
          ['-A', 'FAAS-EGRESS', '-i', BR, '-d', cidr, '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
          ['-A', 'FAAS-EGRESS', '-i', BR, '-d', cidr, '-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited'],
        ]),
        ['-A', 'FAAS-INPUT', '-i', BR, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'RETURN'],
        ['-A', 'FAAS-INPUT', '-i', BR, '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
        ['-A', 'FAAS-INPUT', '-i', BR, '-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited'],
      ],
    ],
    [
      'allowed destinations return before the drops, in the order given',
      ['10.1.2.0/24', '192.168.5.7/32'],
      [
        ['-A', 'FAAS-EGRESS', '-i', BR, '!', '-s', SUBNET, '-j', 'DROP'],
        ['-A', 'FAAS-EGRESS', '-i', BR, '-d', '10.1.2.0/24', '-j', 'RETURN'],
        ['-A', 'FAAS-EGRESS', '-i', BR, '-d', '192.168.5.7/32', '-j', 'RETURN'],
        ...BLOCKED_CIDRS.flatMap((cidr) => [
          ['-A', 'FAAS-EGRESS', '-i', BR, '-d', cidr, '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
          ['-A', 'FAAS-EGRESS', '-i', BR, '-d', cidr, '-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited'],
        ]),
        ['-A', 'FAAS-INPUT', '-i', BR, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'RETURN'],
        ['-A', 'FAAS-INPUT', '-i', BR, '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
        ['-A', 'FAAS-INPUT', '-i', BR, '-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited'],
      ],
    ],
  ])('%s', (_, allow, rules) => {
    expect(egressRules(SUBNET, BR, allow).rules).toEqual(rules);
  });

  it('opens one TCP port of an address (forwarded or this host) and of this host at the gateway, before the refusals', () => {
    const rules = egressRules(SUBNET, BR, ['10.0.0.5/32:5432', 'host:6379', '10.1.2.0/24'], [], '172.30.0.1').rules;
    const egress = rules.filter((r) => r[1] === EGRESS_CHAIN);
    const input = rules.filter((r) => r[1] === INPUT_CHAIN);
    expect(egress.slice(1, 3)).toEqual([
      ['-A', 'FAAS-EGRESS', '-i', BR, '-d', '10.0.0.5/32', '-p', 'tcp', '--dport', '5432', '-j', 'RETURN'],
      ['-A', 'FAAS-EGRESS', '-i', BR, '-d', '10.1.2.0/24', '-j', 'RETURN'],
    ]);
    expect(input).toEqual([
      ['-A', 'FAAS-INPUT', '-i', BR, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'RETURN'],
      ['-A', 'FAAS-INPUT', '-i', BR, '-d', '10.0.0.5/32', '-p', 'tcp', '--dport', '5432', '-j', 'RETURN'],
      ['-A', 'FAAS-INPUT', '-i', BR, '-d', '172.30.0.1/32', '-p', 'tcp', '--dport', '6379', '-j', 'RETURN'],
      ['-A', 'FAAS-INPUT', '-i', BR, '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
      ['-A', 'FAAS-INPUT', '-i', BR, '-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited'],
    ]);
    // A range without a port never opens the host.
    expect(input.some((r) => r.includes('10.1.2.0/24'))).toBe(false);
  });

  it('jumps from DOCKER-USER (FORWARD path) and INPUT, and the host is never an allowed destination', () => {
    const set = egressRules(SUBNET, BR, ['0.0.0.0/0']);
    expect(set.parents).toEqual(['DOCKER-USER']);
    expect(set.jumps).toEqual([
      { from: 'DOCKER-USER', chain: EGRESS_CHAIN },
      { from: 'INPUT', chain: INPUT_CHAIN },
    ]);
    expect(set.rules.filter((r) => r[1] === INPUT_CHAIN).at(-1)).toEqual([
      '-A',
      'FAAS-INPUT',
      '-i',
      BR,
      '-j',
      'REJECT',
      '--reject-with',
      'icmp-admin-prohibited',
    ]);
  });

  it('drops every IPv6 packet from the bridge, forwarded or to the host', () => {
    expect(egressRules6(BR)).toEqual({
      parents: [],
      jumps: [
        { from: 'FORWARD', chain: EGRESS_CHAIN },
        { from: 'INPUT', chain: INPUT_CHAIN },
      ],
      rules: [
        ['-A', 'FAAS-EGRESS', '-i', BR, '-j', 'DROP'],
        ['-A', 'FAAS-INPUT', '-i', BR, '-j', 'DROP'],
      ],
    });
  });
});

/** A tiny in-memory iptables: chains of rule strings, `-C`/`-L` fail when absent. */
function fakeIptables() {
  const chains = new Map<string, string[]>([
    ['INPUT', []],
    ['FORWARD', []],
    ['DOCKER-USER', []],
  ]);
  const calls: string[] = [];
  const run: IptablesRunner = async (_program, args) => {
    calls.push(args.join(' '));
    const [op, chain, ...rest] = args[0] === '-n' ? args.slice(1) : args;
    const list = chains.get(chain!);
    const fail = (why: string) => Promise.reject(new Error(why));
    switch (op) {
      case '-N':
        if (list) return fail('exists');
        chains.set(chain!, []);
        return '';
      case '-L':
        return list ? '' : fail('no chain');
      case '-S':
        return list ? `${[`-N ${chain}`, ...list.map((r) => `-A ${chain} ${r}`)].join('\n')}\n` : fail('no chain');
      case '-F':
        if (!list) return fail('no chain');
        list.length = 0;
        return '';
      case '-X':
        if (!list || list.length) return fail('busy');
        chains.delete(chain!);
        return '';
      case '-A':
        list!.push(rest.join(' '));
        return '';
      case '-I':
        list!.unshift(rest.slice(1).join(' '));
        return '';
      case '-C':
        return list?.includes(rest.join(' ')) ? '' : fail('no rule');
      case '-D': {
        const at = list?.indexOf(rest.join(' ')) ?? -1;
        if (at < 0) return fail('no rule');
        list!.splice(at, 1);
        return '';
      }
      default:
        return fail(`unexpected ${op}`);
    }
  };
  return { chains, calls, run };
}

describe('installRules / removeRules', () => {
  it('installs once, changes nothing when run again, rebuilds when the allow list changes, and removes cleanly', async () => {
    const ipt = fakeIptables();
    const before = structuredClone([...ipt.chains]);
    await installRules(ipt.run, 'iptables', egressRules(SUBNET, BR));
    expect(ipt.chains.get('DOCKER-USER')).toEqual(['-j FAAS-EGRESS']);
    expect(ipt.chains.get('INPUT')).toEqual(['-j FAAS-INPUT']);
    expect(ipt.chains.get('FORWARD')).toEqual(['-j DOCKER-USER']);
    expect(ipt.chains.get(EGRESS_CHAIN)).toHaveLength(1 + 2 * BLOCKED_CIDRS.length);

    ipt.calls.length = 0;
    await installRules(ipt.run, 'iptables', egressRules(SUBNET, BR));
    expect(ipt.calls.filter((c) => /^-(A|I|F|N|D|X) /.test(c))).toEqual([]);
    expect(ipt.chains.get('DOCKER-USER')).toEqual(['-j FAAS-EGRESS']);

    await installRules(ipt.run, 'iptables', egressRules(SUBNET, BR, ['10.1.2.0/24']));
    expect(ipt.chains.get(EGRESS_CHAIN)).toHaveLength(2 + 2 * BLOCKED_CIDRS.length);
    expect(ipt.chains.get(EGRESS_CHAIN)![1]).toBe(`-i ${BR} -d 10.1.2.0/24 -j RETURN`);
    expect(ipt.chains.get('DOCKER-USER')).toEqual(['-j FAAS-EGRESS']);

    await removeRules(ipt.run, 'iptables', egressRules(SUBNET, BR));
    await removeRules(ipt.run, 'iptables', egressRules(SUBNET, BR));
    // FORWARD's jump to DOCKER-USER was added because the fake lacked it; Docker's own stays.
    expect([...ipt.chains].filter(([name]) => name !== 'FORWARD')).toEqual(before.filter(([name]) => name !== 'FORWARD'));
  });

  it('creates DOCKER-USER when Docker has not', async () => {
    const ipt = fakeIptables();
    ipt.chains.delete('DOCKER-USER');
    await installRules(ipt.run, 'iptables', egressRules(SUBNET, BR));
    expect(ipt.chains.get('FORWARD')).toEqual(['-j DOCKER-USER']);
    expect(ipt.chains.get('DOCKER-USER')).toEqual(['-j FAAS-EGRESS']);
  });

  it('rejects when iptables fails, so the caller can refuse functions with network', async () => {
    const failing: IptablesRunner = () => Promise.reject(new Error('iptables: not found'));
    await expect(installRules(failing, 'iptables', egressRules(SUBNET, BR))).rejects.toThrow('not found');
  });
});

describe('DockerDriver fails closed', () => {
  it('refuses a container with network until prepareNetwork succeeded, and after it failed', async () => {
    const { DockerDriver } = await import('../../../invoker/driver/docker/docker-driver.js');
    let created = 0;
    const docker = {
      createContainer: async () => {
        created++;
        return { id: 'c1', start: async () => {} };
      },
      getNetwork: () => ({ inspect: async () => Promise.reject(Object.assign(new Error('down'), { statusCode: 500 })) }),
    } as unknown as import('dockerode');
    const driver = new DockerDriver(docker);
    const spec = {
      name: 'n',
      image: 'i',
      fn: 'f',
      version: 1,
      memoryMb: 64,
      cpus: 1,
      pidsLimit: 64,
      tmpMb: 8,
      env: {},
      codeDir: '/c',
      socketDir: '/s',
      owner: 'o',
    };
    await expect(driver.run({ ...spec, network: true })).rejects.toThrow(/outbound network refused: the function network was not prepared/);
    await expect(driver.prepareNetwork()).rejects.toThrow('down');
    await expect(driver.run({ ...spec, network: true })).rejects.toThrow(/outbound network refused: .*firewall is not in place: down/);
    expect(created).toBe(0);
    expect(await driver.run({ ...spec, network: false })).toBe('c1');
  });
});

describe('host resolvers', () => {
  it('keeps IPv4 nameservers that are not loopback, once each', () => {
    expect(parseResolvers('# x\nnameserver 10.255.255.53\nnameserver 127.0.0.53\nnameserver ::1\nnameserver 10.255.255.53\nsearch local\n')).toEqual([
      '10.255.255.53',
    ]);
  });

  it('lets functions reach port 53 of those resolvers and nothing else of them', () => {
    const rules = egressRules('172.30.0.0/16', 'faas-egress0', [], ['10.0.0.2']);
    const dns = rules.rules.filter((r) => r.includes('--dport'));
    expect(dns).toEqual([
      ['-A', 'FAAS-EGRESS', '-i', 'faas-egress0', '-d', '10.0.0.2/32', '-p', 'udp', '--dport', '53', '-j', 'RETURN'],
      ['-A', 'FAAS-EGRESS', '-i', 'faas-egress0', '-d', '10.0.0.2/32', '-p', 'tcp', '--dport', '53', '-j', 'RETURN'],
    ]);
    // Before the drops of private ranges.
    expect(rules.rules.findIndex((r) => r.includes('--dport'))).toBeLessThan(rules.rules.findIndex((r) => r.includes('10.0.0.0/8')));
  });
});

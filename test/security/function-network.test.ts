// A function deployed with network reaches the internet through Docker's NAT, but not this host (any port, the
// bridge gateway included), other containers or private ranges: the platform's own network and its firewall
// rules (invoker/driver/docker/function-network.ts). A function without network has loopback only.
//
// Traffic here only goes to loopback, to this machine's own bridge address, and to a network namespace the
// test makes itself (10.201.0.2 and 198.18.201.2, behind a veth pair).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_NETWORK, EGRESS_CHAIN, INPUT_CHAIN, installEgressRules } from '../../invoker/driver/docker/function-network.js';
import { requireDocker } from '../support/services.js';
import { startTestPlatform, uniqueName, type TestPlatform } from '../support/platform.js';

const run = promisify(execFile);
const NS_HOST = '10.201.0.1';
const NS_ADDR = '10.201.0.2';
const NS_PORT = 8099;
/** A benchmarking-range address (198.18.0.0/15) on the same namespace: such ranges are real LANs on some hosts. */
const NS_HOST_2 = '198.18.201.1';
const NS_ADDR_2 = '198.18.201.2';

const probe = `
import net from 'node:net';
import { readFileSync } from 'node:fs';
export default async (req) => {
  const q = new URL(req.url).searchParams;
  if (q.get('mode') === 'interfaces') {
    const lines = readFileSync('/proc/net/dev', 'utf8').split('\\n').slice(2);
    return Response.json({ interfaces: lines.map((l) => l.split(':')[0].trim()).filter(Boolean) });
  }
  const host = q.get('host'), port = Number(q.get('port')), started = Date.now();
  if (q.get('mode') === 'fetch') {
    try {
      const res = await fetch('http://' + host + ':' + port + '/', { signal: AbortSignal.timeout(3000) });
      return Response.json({ reached: true, body: await res.text() });
    } catch (err) {
      return Response.json({ reached: false, error: String(err.cause?.code ?? err.name), ms: Date.now() - started });
    }
  }
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 3000 });
    const done = (reached, error) => { socket.destroy(); resolve(Response.json({ reached, error, ms: Date.now() - started })); };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false, 'timeout'));
    socket.once('error', (err) => done(false, err.code));
  });
};`;

/** Packets counted so far by the TCP-refusing rule of `chain` whose spec contains `match`. */
async function dropped(chain: string, match: string): Promise<number> {
  const { stdout } = await run('iptables', ['-w', '5', '-v', '-S', chain]);
  const line = stdout.split('\n').find((l) => l.includes(match) && l.endsWith('-j REJECT --reject-with tcp-reset'));
  const counter = /-c (\d+) \d+/.exec(line ?? '');
  if (!counter) throw new Error(`no REJECT rule with ${match} in ${chain}:\n${stdout}`);
  return Number(counter[1]);
}

/** 'reached', or why not (error code), from one TCP connect of this host. */
function connectFromHost(host: string, port: number, timeoutMs = 1_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: timeoutMs });
    const done = (outcome: string) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.once('connect', () => done('reached'));
    socket.once('timeout', () => done('timeout'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}

/**
 * 'reached' once this host connects to host:port (the namespace's listener may take a moment to bind), else
 * the last failure with the route the host took, so a failing run says what the host saw.
 */
async function hostReaches(host: string, port: number): Promise<string> {
  let outcome = '';
  for (let i = 0; i < 50; i++) {
    outcome = await connectFromHost(host, port, 500);
    if (outcome === 'reached') return outcome;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const route = await run('ip', ['route', 'get', host]).then(
    (r) => r.stdout.trim(),
    (err: Error) => err.message,
  );
  return `${outcome} (route: ${route})`;
}

describe('function network', () => {
  let platform: TestPlatform;
  let server: http.Server;
  let serverPort: number;
  let gateway: string;
  let bridge: string;
  const suffix = randomBytes(3).toString('hex');
  const ns = `faasns-${suffix}`;
  const veth = `fnv${suffix}`; // ≤ 15 chars
  const vethInner = `fnvi${suffix}`;
  let listener: ChildProcess | undefined;
  let nsMade = false;
  let vethMade = false;
  const networked = uniqueName('netprobe');
  const isolated = uniqueName('noneprobe');

  async function callProbe(name: string, query: string): Promise<any> {
    const res = await platform.call(name, `?${query}`);
    expect(res.status).toBe(200);
    return res.json();
  }

  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error('these tests install iptables rules and network namespaces: run them as root (CI does)');
    platform = await startTestPlatform();
    const docker = await requireDocker();
    const info = await docker.getNetwork(FUNCTION_NETWORK).inspect();
    const ipv4 = (info.IPAM?.Config ?? []).find((c) => c.Gateway && !c.Gateway.includes(':'));
    if (!ipv4?.Gateway) throw new Error(`${FUNCTION_NETWORK} has no IPv4 gateway`);
    gateway = ipv4.Gateway;
    bridge = info.Options?.['com.docker.network.bridge.name'] ?? `br-${info.Id.slice(0, 12)}`;

    server = http.createServer((_req, res) => res.end('host-secret'));
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    serverPort = (server.address() as net.AddressInfo).port;

    await run('ip', ['netns', 'add', ns]);
    nsMade = true;
    await run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', vethInner]);
    vethMade = true;
    await run('ip', ['link', 'set', vethInner, 'netns', ns]);
    await run('ip', ['addr', 'add', `${NS_HOST}/24`, 'dev', veth]);
    await run('ip', ['addr', 'add', `${NS_HOST_2}/24`, 'dev', veth]);
    await run('ip', ['link', 'set', veth, 'up']);
    await run('ip', [
      'netns',
      'exec',
      ns,
      'sh',
      '-c',
      `ip addr add ${NS_ADDR}/24 dev ${vethInner}; ip addr add ${NS_ADDR_2}/24 dev ${vethInner}; ip link set ${vethInner} up; ip link set lo up`,
    ]);
    // The listener ignores its connections' errors: the host's probes reset them, which would end it otherwise
    // (and the next test would find nothing listening: ECONNREFUSED, as two loaded runs did).
    listener = spawn(
      'ip',
      ['netns', 'exec', ns, process.execPath, '-e', `require('net').createServer(s=>{s.on('error',()=>{});s.end('hi')}).listen(${NS_PORT},'0.0.0.0')`],
      {
        stdio: 'ignore',
      },
    );

    expect((await platform.deploy(networked, probe, { network: true })).status).toBe(201);
    expect((await platform.deploy(isolated, probe)).status).toBe(201);
  });

  afterAll(async () => {
    if (listener?.pid) {
      try {
        process.kill(listener.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (vethMade) await run('ip', ['link', 'del', veth]).catch(() => {});
    if (nsMade) await run('ip', ['netns', 'del', ns]).catch(() => {});
    server?.close();
    await platform?.stop();
  });

  it('runs functions with network on the platform network, not on Docker’s default bridge', async () => {
    expect(await callProbe(networked, 'mode=interfaces')).toMatchObject({ interfaces: expect.arrayContaining(['lo', 'eth0']) });
    const docker = await requireDocker();
    const [summary] = await docker.listContainers({ filters: { label: [`faas.function=${networked}`] } });
    const inspected = await docker.getContainer(summary!.Id).inspect();
    expect(inspected.HostConfig.NetworkMode).toBe(FUNCTION_NETWORK);
    expect(Object.keys(inspected.NetworkSettings.Networks)).toEqual([FUNCTION_NETWORK]);
    expect(bridge).toBe('faas-egress0');
  });

  it('cannot reach a server of this host through the bridge gateway, which the host itself reaches', async () => {
    // Sanity: the server answers on the host, on loopback and on the gateway address.
    expect(await (await fetch(`http://127.0.0.1:${serverPort}/`)).text()).toBe('host-secret');
    expect(await (await fetch(`http://${gateway}:${serverPort}/`)).text()).toBe('host-secret');

    const before = await dropped(INPUT_CHAIN, `-i ${bridge} -p tcp`);
    const result = await callProbe(networked, `mode=fetch&host=${gateway}&port=${serverPort}`);
    expect(result).toMatchObject({ reached: false });
    expect(result.ms).toBeLessThan(5_000);
    // It was our INPUT rule that dropped it.
    expect(await dropped(INPUT_CHAIN, `-i ${bridge} -p tcp`)).toBeGreaterThan(before);
    const tcp = await callProbe(networked, `mode=tcp&host=${gateway}&port=${serverPort}`);
    expect(tcp).toMatchObject({ reached: false, error: 'ECONNREFUSED' });
  });

  it('cannot reach a private address (10.201.0.2, a namespace of this test), which the host reaches', async () => {
    expect(await hostReaches(NS_ADDR, NS_PORT)).toBe('reached');

    const before = await dropped(EGRESS_CHAIN, '-d 10.0.0.0/8');
    const result = await callProbe(networked, `mode=tcp&host=${NS_ADDR}&port=${NS_PORT}`);
    // Refused at once, not left to time out: the function's error names the refusal.
    expect(result).toMatchObject({ reached: false, error: 'ECONNREFUSED' });
    expect(await dropped(EGRESS_CHAIN, '-d 10.0.0.0/8')).toBeGreaterThan(before);
  });

  it('cannot reach a special-purpose address (198.18.201.2, benchmarking range), which the host reaches', async () => {
    expect(await hostReaches(NS_ADDR_2, NS_PORT)).toBe('reached');
    const result = await callProbe(networked, `mode=tcp&host=${NS_ADDR_2}&port=${NS_PORT}`);
    expect(result).toMatchObject({ reached: false, error: 'ECONNREFUSED' });
  });

  it('reaches exactly the service of this host an operator allows (host:PORT), and no other port of it', async () => {
    // A second service of this host: the one the operator opens. The first (serverPort) stays closed.
    const service = http.createServer((_req, res) => res.end('allowed-service'));
    await new Promise<void>((resolve) => service.listen(0, '0.0.0.0', resolve));
    const servicePort = (service.address() as net.AddressInfo).port;
    const docker = await requireDocker();
    const info = await docker.getNetwork(FUNCTION_NETWORK).inspect();
    const subnet = (info.IPAM?.Config ?? []).find((c) => c.Subnet && !c.Subnet.includes(':'))!.Subnet!;
    const network = { name: FUNCTION_NETWORK, id: info.Id, subnet, gateway, bridge };
    const opened = async () => (await run('iptables', ['-w', '5', '-S', INPUT_CHAIN])).stdout.includes(`--dport ${servicePort} -j RETURN`);
    try {
      // The rules are host-wide and every platform (re)installs its own at start: another test file's platform
      // may replace ours meanwhile, so a refusal counts only when our rule was still there afterwards.
      let result: any;
      for (let i = 0; i < 10; i++) {
        await installEgressRules(network, [`host:${servicePort}`]);
        result = await callProbe(networked, `mode=fetch&host=${gateway}&port=${servicePort}`);
        if (result.reached || (await opened())) break;
      }
      expect(result).toMatchObject({ reached: true, body: 'allowed-service' });
      expect(await opened()).toBe(true);
      const other = await callProbe(networked, `mode=tcp&host=${gateway}&port=${serverPort}`);
      expect(other).toMatchObject({ reached: false, error: 'ECONNREFUSED' });
    } finally {
      // Back as the platform installed them: nothing of this host open.
      await installEgressRules(network, []);
      service.close();
    }
    expect(await opened()).toBe(false);
  });

  it('gives a function without network no interface but loopback', async () => {
    expect(await callProbe(isolated, 'mode=interfaces')).toEqual({ interfaces: ['lo'] });
  });
});

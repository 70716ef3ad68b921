// Which callback targets are refused: every address that is not public unicast, in any spelling, literal,
// resolved by DNS or actually connected to. The only traffic here goes to a server on 127.0.0.1.
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { createGuardedAgent, guardedLookup, isForbiddenAddress, localHostProblem } from '../../../triggers/callback-guard.js';
import { deliverCallback } from '../../../triggers/callback.js';

describe('isForbiddenAddress', () => {
  it.each<[string, boolean]>([
    // IPv4 loopback, unspecified, 0.0.0.0/8, link-local (cloud metadata)
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['0.0.0.0', true],
    ['0.1.2.3', true],
    ['169.254.169.254', true],
    // private ranges and the Docker bridge
    ['10.0.0.1', true],
    ['172.16.0.1', true],
    ['172.17.0.1', true],
    ['172.31.255.255', true],
    ['192.168.1.10', true],
    // carrier-grade NAT, multicast, broadcast, reserved, documentation, benchmarking
    ['100.64.0.1', true],
    ['224.0.0.1', true],
    ['255.255.255.255', true],
    ['240.0.0.1', true],
    ['192.0.2.1', true],
    ['198.18.0.1', true],
    // odd IPv4 spellings
    ['2130706433', true],
    ['0x7f.1', true],
    ['127.1', true],
    ['0177.0.0.1', true],
    // IPv6 loopback, unspecified, link-local (with and without zone), unique-local, multicast, documentation
    ['::1', true],
    ['::', true],
    ['fe80::1', true],
    ['fe80::1%eth0', true],
    ['fc00::1', true],
    ['fd12:3456:789a::1', true],
    ['ff02::1', true],
    ['2001:db8::1', true],
    ['2001::1', true], // Teredo
    ['[::1]', true],
    // IPv4-mapped IPv6 in every spelling
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['0:0:0:0:0:ffff:7f00:1', true],
    ['::FFFF:7F00:0001', true],
    ['::ffff:a9fe:a9fe', true],
    ['::ffff:169.254.169.254', true],
    ['::ffff:10.1.2.3', true],
    ['::ffff:ac11:1', true], // 172.17.0.1
    // IPv4-compatible, NAT64 and 6to4 carrying a local IPv4
    ['::127.0.0.1', true],
    ['::7f00:1', true],
    ['64:ff9b::127.0.0.1', true],
    ['64:ff9b::a9fe:a9fe', true],
    ['2002:7f00:1::1', true],
    ['2002:a9fe:a9fe::', true],
    ['2002:c0a8:0101::1', true], // 192.168.1.1
    // public addresses, also when carried by IPv6
    ['93.184.216.34', false],
    ['8.8.8.8', false],
    ['1.1.1.1', false],
    ['2606:2800:220:1:248:1893:25c8:1946', false],
    ['2a00:1450:4001:80b::200e', false],
    ['::ffff:93.184.216.34', false],
    ['::ffff:5db8:d822', false],
    ['64:ff9b::93.184.216.34', false],
    ['2002:5db8:d822::1', false],
    // not an address: a name is judged by its DNS answers
    ['example.com', false],
    ['localhost', false],
  ])('%s → forbidden %s', (ip, expected) => {
    expect(isForbiddenAddress(ip)).toBe(expected);
  });
});

describe('localHostProblem', () => {
  it.each<[string, string, boolean]>([
    ['http://localhost:3000/x', 'localhost', true],
    ['http://LOCALHOST/x', 'localhost', true],
    ['http://localhost./x', 'localhost.', true],
    ['http://api.localhost/x', 'api.localhost', true],
    ['http://127.0.0.1:8080/', '127.0.0.1', true],
    ['http://2130706433/', '127.0.0.1', true],
    ['http://0x7f.1/', '127.0.0.1', true],
    ['http://127.1/', '127.0.0.1', true],
    ['http://0177.0.0.1/', '127.0.0.1', true],
    ['http://0x7f000001/', '127.0.0.1', true],
    ['http://127.0.0.1./', '127.0.0.1', true],
    ['http://%31%32%37.0.0.1/', '127.0.0.1', true],
    ['http://0/', '0.0.0.0', true],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254', true],
    ['http://172.17.0.1:6379/', '172.17.0.1', true],
    ['http://10.0.0.5/', '10.0.0.5', true],
    ['http://192.168.0.1/', '192.168.0.1', true],
    ['http://[::1]:80/', '[::1]', true],
    ['http://[::ffff:127.0.0.1]:8080/', '[::ffff:7f00:1]', true],
    ['http://[0:0:0:0:0:ffff:7f00:1]/', '[::ffff:7f00:1]', true],
    ['http://[::ffff:a9fe:a9fe]/', '[::ffff:a9fe:a9fe]', true],
    ['http://[::127.0.0.1]/', '[::7f00:1]', true],
    ['http://[64:ff9b::a9fe:a9fe]/', '[64:ff9b::a9fe:a9fe]', true],
    ['http://[2002:7f00:1::]/', '[2002:7f00:1::]', true],
    ['http://[fd00::1]/', '[fd00::1]', true],
    ['https://hooks.example.com/done', 'hooks.example.com', false],
    ['https://93.184.216.34/done', '93.184.216.34', false],
    ['https://[2606:2800:220:1:248:1893:25c8:1946]/done', '[2606:2800:220:1:248:1893:25c8:1946]', false],
  ])('%s (hostname %s) refused %s', (url, hostname, refused) => {
    const parsed = new URL(url);
    expect(parsed.hostname).toBe(hostname);
    const problem = localHostProblem(parsed);
    if (refused) {
      expect(problem).toContain(`(${hostname})`);
      expect(problem).toMatch(/FAAS_CALLBACK_ALLOW_LOCAL=1/);
    } else {
      expect(problem).toBeUndefined();
    }
  });
});

describe('guardedLookup', () => {
  it('fails a name that resolves to a local address at connect time', async () => {
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => guardedLookup('localhost', {}, (e) => resolve(e)));
    expect(err?.code).toBe('ECALLBACKLOCAL');
  });
});

describe('connect-time guard (server on 127.0.0.1 only)', () => {
  let server: http.Server;
  let port: number;
  let requests = 0;
  let connections = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      requests++;
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const post = async (agent: ReturnType<typeof createGuardedAgent>, url: string) => {
    try {
      const res = await request(url, { dispatcher: agent, method: 'POST', body: 'x' });
      await res.body.dump();
      return { status: res.statusCode };
    } catch (err) {
      return { error: err as NodeJS.ErrnoException };
    }
  };

  it('refuses loopback by literal IPv4, IPv4-mapped IPv6 and name, and never reaches the server', async () => {
    const agent = createGuardedAgent();
    try {
      for (const url of [`http://127.0.0.1:${port}/`, `http://[::ffff:127.0.0.1]:${port}/`, `http://localhost:${port}/`]) {
        const { error } = await post(agent, url);
        expect(error?.code, url).toBe('ECALLBACKLOCAL');
      }
      const { error } = await post(agent, `http://127.0.0.1:${port}/`);
      expect(error?.message).toMatch(/127\.0\.0\.1/);
      expect(requests).toBe(0);
      expect(connections).toBe(0);
    } finally {
      await agent.close();
    }
  });

  it('checks the address actually connected to, even when DNS said otherwise', async () => {
    // A lookup that is not guarded (as if DNS had changed between check and connect) still cannot get through.
    const agent = createGuardedAgent({
      lookup: (_hostname, options, callback) => (options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4)),
    } as Parameters<typeof createGuardedAgent>[0]);
    try {
      const { error } = await post(agent, `http://callback.example.test:${port}/`);
      expect(error?.code).toBe('ECALLBACKLOCAL');
      expect(error?.message).toMatch(/connected to .*127\.0\.0\.1/);
      expect(requests).toBe(0);
    } finally {
      await agent.close();
    }
  });

  it('for https refuses on the TCP connection, before any TLS byte is sent', async () => {
    let bytes = 0;
    const raw = net.createServer((socket) => socket.on('data', (chunk) => (bytes += chunk.length)));
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    const agent = createGuardedAgent({
      lookup: (_hostname, options, callback) => (options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4)),
    } as Parameters<typeof createGuardedAgent>[0]);
    try {
      const { error } = await post(agent, `https://callback.example.test:${(raw.address() as AddressInfo).port}/`);
      expect(error?.code).toBe('ECALLBACKLOCAL');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(bytes).toBe(0);
    } finally {
      await agent.close();
      await new Promise<void>((resolve) => raw.close(() => resolve()));
    }
  });

  it('deliverCallback refuses loopback without allow-local, and delivers with it', async () => {
    const gaveUp: Error[] = [];
    const outcome = { status: 'dead', error: { code: 'E', message: 'm' } } as const;
    const refused = await deliverCallback(`http://[::ffff:127.0.0.1]:${port}/`, 'inv-1', outcome, { tries: 1, onGiveUp: (_url, err) => gaveUp.push(err) });
    expect(refused).toBe(false);
    expect(gaveUp[0]?.message).toMatch(/FAAS_CALLBACK_ALLOW_LOCAL/);
    expect(requests).toBe(0);

    const delivered = await deliverCallback(`http://127.0.0.1:${port}/`, 'inv-2', outcome, { tries: 1, allowLocal: true });
    expect(delivered).toBe(true);
    expect(requests).toBe(1);
  });
});

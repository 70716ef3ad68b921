// Gateway↔invoker TLS (loopback, in-memory invoker): an invoker serving https:// with an operator's
// certificate is called by a gateway that trusts the operator's CA; a gateway that does not trust it never
// sends the call (503 naming the certificate problem), and neither does one reaching plain http.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerState, InvocationRequest, InvocationResponse, Invoker } from '../../core/invoker.js';
import { InvokerServer } from '../../invoker/remote/invoker-server.js';
import { RemoteInvoker } from '../../invoker/remote/remote-invoker.js';

const TOKEN = 'tls-token';
const dir = mkdtempSync(path.join(os.tmpdir(), 'faas-tls-'));
const pem = (name: string) => readFileSync(path.join(dir, name));
let server: InvokerServer;
let url: string;
const remotes: RemoteInvoker[] = [];

const invoker: Invoker = {
  async invoke(request: InvocationRequest): Promise<InvocationResponse> {
    return {
      status: 200,
      headers: {},
      body: Buffer.from(`over tls: ${request.fn}`),
      meta: { invocationId: request.invocationId, fn: request.fn, version: 1, coldStart: false, queueWaitMs: 0, durationMs: 1 },
    };
  },
  async containerCounts(): Promise<Record<ContainerState, number>> {
    return { prewarmed: 0, starting: 0, idle: 0, paused: 0, busy: 0, removing: 0 };
  },
  async containerList() {
    return [];
  },
  async close() {},
};

const request = (fn: string): InvocationRequest => ({
  invocationId: `inv-${fn}`,
  fn,
  trigger: 'http',
  method: 'GET',
  path: '/',
  rawQuery: '',
  headers: {},
  body: Buffer.alloc(0),
  receivedAt: Date.now(),
});

beforeAll(async () => {
  // An operator's CA and a certificate it signs for the invoker's address.
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=faas test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'invoker.key', '-out', 'invoker.csr', '-subj', '/CN=invoker');
  writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName = IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'invoker.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'invoker.pem',
    '-days',
    '2',
    '-extfile',
    'san.ext',
  );
}, 60_000);

afterAll(async () => {
  for (const remote of remotes) await remote.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('gateway↔invoker TLS', () => {
  it('calls an invoker over https:// when the gateway trusts its CA, and never sends the call otherwise', async () => {
    server = new InvokerServer({ invoker, token: TOKEN, maxFrameBytes: 1024 * 1024, tls: { cert: pem('invoker.pem'), key: pem('invoker.key') } });
    url = await server.listen('127.0.0.1', 0);
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const entry = { id: 'inv', url, seenAt: Date.now() };

    const trusting = new RemoteInvoker({ invokers: () => [entry], token: TOKEN, tlsCa: pem('ca.pem') });
    remotes.push(trusting);
    expect((await trusting.invoke(request('a'))).body.toString()).toBe('over tls: a');

    const untrusting = new RemoteInvoker({ invokers: () => [entry], token: TOKEN });
    remotes.push(untrusting);
    const err = await untrusting.invoke(request('b')).catch((e: Error & { code?: string }) => e);
    expect(err).toMatchObject({ code: 'NO_CAPACITY' });
    expect((err as Error).message).toMatch(/inv: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/);

    // A plain-http gateway URL for a TLS invoker: refused in the handshake, not run.
    const plain = new RemoteInvoker({ invokers: () => [{ ...entry, url: url.replace('https', 'http') }], token: TOKEN });
    remotes.push(plain);
    await expect(plain.invoke(request('c'))).rejects.toThrow();
  });
});

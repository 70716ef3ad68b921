// The bindings socket as a hostile function would use it: it reaches only the bindings its function was
// deployed with, in its own tenant — never another binding name, another tenant's namespace of the same
// name, an inherited property name, or more connections than the cap.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBindingServer } from '../../bindings/binding-server.js';
import { KvStore } from '../../bindings/kv-store.js';
import { defaultFunctionConfig, type FunctionSpec } from '../../core/function-spec.js';
import { BINDINGS_SOCKET_NAME } from '../../runtime-images/node/protocol.js';
import { startRedis, type TestRedis } from '../support/services.js';

let redis: TestRedis;
let client: Redis;
let dir: string;
let kv: KvStore;

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url, { maxRetriesPerRequest: null });
  dir = mkdtempSync(path.join(os.tmpdir(), 'faas-bindings-'));
  kv = new KvStore({ redis: client, prefix: 'sec:', limits: { maxValueBytes: 1024, maxTenantBytes: 1_000_000, maxKeys: 1000 } });
});
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const spec = (name: string, over: Partial<FunctionSpec> = {}): FunctionSpec => ({
  ...defaultFunctionConfig(),
  name,
  version: 1,
  codeSha256: 'x',
  codeBytes: 1,
  createdAt: '',
  updatedAt: '',
  ...over,
});

function ask(socketPath: string, method: string, route: string, body?: string, agent?: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: route, ...(agent ? { agent } : {}) }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the bindings socket', () => {
  it('reaches only the function’s own bindings, in its own tenant', async () => {
    const services = { kv, sendToQueue: async () => ({ id: 'x' }), maxBodyBytes: 1024 };
    await kv.put('globex', 'CACHE', 'secret', { value: Buffer.from('globex data') });
    const acmeDir = mkdtempSync(path.join(dir, 'acme-'));
    const server = await openBindingServer(acmeDir, spec('acme.fn', { kv: ['CACHE'] }), services);
    const socket = path.join(acmeDir, BINDINGS_SOCKET_NAME);
    try {
      // Its own binding: its own tenant's namespace, where globex's key does not exist.
      expect((await ask(socket, 'GET', '/kv/CACHE?key=secret')).status).toBe(404);
      expect((await ask(socket, 'PUT', '/kv/CACHE?key=mine', 'acme data')).status).toBe(204);
      expect((await kv.get('globex', 'CACHE', 'mine')) === undefined).toBe(true);
      // Any other name, a tenant-looking name, a path trick or an inherited property: no binding.
      for (const route of ['/kv/OTHER?key=secret', '/kv/globex.CACHE?key=secret', '/kv/..%2Fglobex?key=secret', '/queues/constructor', '/queues/__proto__']) {
        const res = await ask(socket, route.startsWith('/queues') ? 'POST' : 'GET', route, route.startsWith('/queues') ? '{"messages":[]}' : undefined);
        expect(res.status, route).toBe(404);
        expect(JSON.parse(res.body).error.code).toBe('NO_BINDING');
      }
    } finally {
      await server.close();
    }
  });

  it('refuses connections past its cap, so one container cannot take the invoker’s file descriptors', async () => {
    const ownDir = mkdtempSync(path.join(dir, 'cap-'));
    const server = await openBindingServer(ownDir, spec('acme.cap', { kv: ['CACHE'] }), { kv, sendToQueue: async () => ({ id: 'x' }), maxBodyBytes: 1024 });
    const socket = path.join(ownDir, BINDINGS_SOCKET_NAME);
    const sockets: import('node:net').Socket[] = [];
    try {
      const net = await import('node:net');
      for (let i = 0; i < 40; i++) sockets.push(net.connect(socket));
      // Held open (no request): those past the cap are closed by the server.
      const closed = await new Promise<number>((resolve) => {
        let n = 0;
        for (const s of sockets) s.on('close', () => (n += 1));
        const poll = setInterval(() => {
          if (n >= 40 - 16) {
            clearInterval(poll);
            resolve(n);
          }
        }, 20);
      });
      expect(closed).toBeGreaterThanOrEqual(24);
    } finally {
      for (const s of sockets) s.destroy();
      await server.close();
    }
  });
});

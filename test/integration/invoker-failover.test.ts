// A gateway's remote invoker when invokers fail (real HTTP on loopback; the invokers behind the servers are
// in-memory, so the tests are about the gateway↔invoker protocol, not containers): a call an invoker never
// received goes to the next invoker of the function's ranking at once, a call lost mid-way is 502
// INVOKER_LOST (never a hang), a draining invoker's calls move, a gateway waits for its first invoker, and
// an invoker that comes back is used again. The kill -9 of a real invoker process is in distributed-failover.
import type http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContainerState, InvocationRequest, InvocationResponse, Invoker } from '../../core/invoker.js';
import { InvokerServer } from '../../invoker/remote/invoker-server.js';
import { RemoteInvoker } from '../../invoker/remote/remote-invoker.js';
import { rankInvokers } from '../../invoker/remote/placement.js';
import type { InvokerEntry } from '../../invoker/remote/invoker-directory.js';
import { waitUntil } from '../support/platform.js';

const TOKEN = 'failover-token';

/** Answers with its own name; a call to `/hold` waits until released. */
class NamedInvoker implements Invoker {
  readonly held: Array<() => void> = [];
  calls = 0;
  constructor(readonly name: string) {}
  async invoke(request: InvocationRequest): Promise<InvocationResponse> {
    this.calls += 1;
    if (request.path === '/hold') await new Promise<void>((resolve) => this.held.push(resolve));
    return {
      status: 200,
      headers: { 'content-type': 'text/plain' },
      body: Buffer.from(this.name),
      meta: { invocationId: request.invocationId, fn: request.fn, version: 1, coldStart: false, queueWaitMs: 0, durationMs: 1 },
    };
  }
  async containerCounts(): Promise<Record<ContainerState, number>> {
    return { prewarmed: 0, starting: 0, idle: 0, paused: 0, busy: 0, removing: 0 };
  }
  async containerList() {
    return [];
  }
  async close() {}
}

interface Running {
  entry: InvokerEntry;
  invoker: NamedInvoker;
  server: InvokerServer;
}

const started: Running[] = [];
const remotes: RemoteInvoker[] = [];

async function startInvoker(id: string, port = 0): Promise<Running> {
  const invoker = new NamedInvoker(id);
  const server = new InvokerServer({ invoker, token: TOKEN, maxFrameBytes: 1024 * 1024 });
  const url = await server.listen('127.0.0.1', port);
  const running = { entry: { id, url, seenAt: Date.now() }, invoker, server };
  started.push(running);
  return running;
}

/** Gone as a killed process goes: its port closed, every connection dropped at once. */
async function kill(running: Running): Promise<void> {
  const server = (running.server as unknown as { server: http.Server }).server;
  server.close();
  server.closeAllConnections();
}

const request = (fn: string, path = '/'): InvocationRequest => ({
  invocationId: `inv-${Math.random().toString(16).slice(2)}`,
  fn,
  trigger: 'http',
  method: 'GET',
  path,
  rawQuery: '',
  headers: {},
  body: Buffer.alloc(0),
  receivedAt: Date.now(),
});

/** A function name whose first choice among the ids is `first`. */
function fnPlacedOn(first: string, ids: string[]): string {
  for (let i = 0; ; i++) if (rankInvokers(`fn-${i}`, ids)[0] === first) return `fn-${i}`;
}

function remoteOver(list: () => InvokerEntry[], extra: Partial<ConstructorParameters<typeof RemoteInvoker>[0]> = {}): RemoteInvoker {
  const remote = new RemoteInvoker({ invokers: list, token: TOKEN, ...extra });
  remotes.push(remote);
  return remote;
}

afterEach(async () => {
  for (const remote of remotes.splice(0)) await remote.close();
  for (const s of started.splice(0)) {
    for (const release of s.invoker.held.splice(0)) release();
    await s.server.close().catch(() => {});
  }
});

describe('remote invoker failover', () => {
  it('sends a call its invoker never received to the next invoker of the ranking at once, and keeps skipping the dead one', async () => {
    const a = await startInvoker('a');
    const b = await startInvoker('b');
    const entries = [a.entry, b.entry];
    const remote = remoteOver(() => entries);
    const fn = fnPlacedOn('a', ['a', 'b']);
    expect((await remote.invoke(request(fn))).body.toString()).toBe('a');
    await kill(a);
    const answers: string[] = [];
    for (let i = 0; i < 20; i++) answers.push((await remote.invoke(request(fn))).body.toString());
    expect(answers).toEqual(Array(20).fill('b'));
    // Marked down from the first refusal: no call waits on a connect to it again.
    expect(remote.health.isUp('a')).toBe(false);
  });

  it('ends a call in flight on an invoker that dies with 502 INVOKER_LOST, not a hang', async () => {
    const a = await startInvoker('a');
    const b = await startInvoker('b');
    const remote = remoteOver(() => [a.entry, b.entry]);
    const fn = fnPlacedOn('a', ['a', 'b']);
    const inFlight = remote.invoke(request(fn, '/hold'));
    await waitUntil('the call to reach invoker a', async () => (a.invoker.held.length === 1 ? true : undefined));
    await kill(a);
    await expect(inFlight).rejects.toMatchObject({ code: 'INVOKER_LOST', status: 502 });
    // Not run again elsewhere: its outcome is unknown, and a second run could repeat what it did.
    expect(b.invoker.calls).toBe(0);
  });

  it('ends a call left open on an invoker that stopped taking connections once a probe finds no one there (never a hang)', async () => {
    const a = await startInvoker('a');
    const b = await startInvoker('b');
    const remote = remoteOver(() => [a.entry, b.entry]);
    const fn = fnPlacedOn('a', ['a', 'b']);
    const stuck = remote.invoke(request(fn, '/hold'));
    await waitUntil('the call to reach invoker a', async () => (a.invoker.held.length === 1 ? true : undefined));
    // Invoker a takes no new connection (its open one stays, its call never answered): a host gone quiet.
    (a.server as unknown as { server: http.Server }).server.close();
    // The next call finds it refusing, goes to b, and marks a down; a's probe then reaches no one.
    expect((await remote.invoke(request(fn))).body.toString()).toBe('b');
    await expect(stuck).rejects.toMatchObject({ code: 'INVOKER_LOST', status: 502 });
  });

  it("moves a draining invoker's new calls to the next one; its running call finishes", async () => {
    const a = await startInvoker('a');
    const b = await startInvoker('b');
    const remote = remoteOver(() => [a.entry, b.entry]);
    const fn = fnPlacedOn('a', ['a', 'b']);
    const running = remote.invoke(request(fn, '/hold'));
    await waitUntil('the call to reach invoker a', async () => (a.invoker.held.length === 1 ? true : undefined));
    // A warm connection to a, idle: the drain must answer on it, not drop it.
    expect((await remote.invoke(request(fn))).body.toString()).toBe('a');
    a.server.drain();
    expect((await remote.invoke(request(fn))).body.toString()).toBe('b');
    a.invoker.held.shift()!();
    expect((await running).body.toString()).toBe('a');
  });

  it('uses an invoker again once a probe finds it back', async () => {
    const a = await startInvoker('a');
    const b = await startInvoker('b');
    const port = Number(new URL(a.entry.url).port);
    const remote = remoteOver(() => [a.entry, b.entry]);
    const fn = fnPlacedOn('a', ['a', 'b']);
    await kill(a);
    expect((await remote.invoke(request(fn))).body.toString()).toBe('b');
    // Back on the same address (a restarted process).
    const again = await startInvoker('a', port);
    await waitUntil('invoker a to be probed up', async () => (remote.health.isUp('a') ? true : undefined), 15_000);
    expect((await remote.invoke(request(fn))).body.toString()).toBe('a');
    expect(again.invoker.calls).toBe(1);
  });

  it('holds calls until a first invoker announces itself (bounded), instead of refusing them at start', async () => {
    let entries: InvokerEntry[] = [];
    const remote = remoteOver(() => entries, { waitForInvokerMs: 30_000, refresh: async () => entries });
    const call = remote.invoke(request('early'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const a = await startInvoker('a');
    entries = [a.entry];
    expect((await call).body.toString()).toBe('a');

    const none = remoteOver(() => [], { waitForInvokerMs: 200, refresh: async () => [] });
    await expect(none.invoke(request('early'))).rejects.toMatchObject({ code: 'NO_CAPACITY' });
  });

  it('says NO_CAPACITY naming each invoker tried when none can take the call', async () => {
    const a = await startInvoker('a');
    const b = await startInvoker('b');
    const remote = remoteOver(() => [a.entry, b.entry]);
    await kill(a);
    await kill(b);
    const err = await remote.invoke(request('x')).catch((e: Error & { code?: string }) => e);
    expect(err).toMatchObject({ code: 'NO_CAPACITY' });
    expect((err as Error).message).toMatch(/a: ECONNREFUSED.*b: ECONNREFUSED|b: ECONNREFUSED.*a: ECONNREFUSED/);
  });
});

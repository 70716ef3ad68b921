// In-memory fakes of the gateway's dependencies and an app builder over them, for injected-request tests.
import type { FastifyInstance } from 'fastify';
import inject, { type InjectOptions, type Response as InjectedResponse } from 'light-my-request';
import { buildApp } from '../../../gateway/app.js';
import { gatewayConfigOf, loadConfig } from '../../../platform/config.js';
import { FunctionNotFoundError } from '../../../core/errors.js';
import type {
  ContainerInfo,
  ContainerState,
  InvocationEvents,
  InvocationFinished,
  InvocationRequest,
  InvocationResponse,
  Invoker,
} from '../../../core/invoker.js';
import type { InvocationLogEntry, InvocationLogStore, MeteredRecord } from '../../../metering/usage-record.js';
import { partialsOf } from '../../../metering/partials.js';
import type { RollupAnswer, RollupQuery, UsageRollups } from '../../../metering/redis-rollups.js';
import type { DeployInput, DeployResult } from '../../../registry/function-registry.js';
import { InMemoryRegistry } from '../../support/in-memory/in-memory-registry.js';

export const TOKEN = 'test-token-0123456789';
export const AUTH = { authorization: `Bearer ${TOKEN}` };
export const CODE = `export default () => 'ok';`;

/** The in-memory registry (it passes the registry contract), which can also be made to fail. */
export class FakeRegistry extends InMemoryRegistry {
  failWith: Error | undefined;

  override async deploy(input: DeployInput): Promise<DeployResult> {
    if (this.failWith) throw this.failWith;
    return super.deploy(input);
  }
  override async get(name: string) {
    if (this.failWith) throw this.failWith;
    return super.get(name);
  }
}

type Answer = (request: InvocationRequest) => InvocationResponse | Promise<InvocationResponse>;

/** Records every request; answers with `answer` (default: 200 "ok" for deployed functions, else not found). */
export class FakeInvoker implements Invoker, InvocationEvents {
  readonly requests: InvocationRequest[] = [];
  private readonly listeners = new Set<(event: InvocationFinished) => void>();
  counts: Record<ContainerState, number> = { prewarmed: 2, starting: 0, idle: 3, paused: 0, busy: 1, removing: 0 };

  constructor(
    private readonly registry: FakeRegistry,
    public answer?: Answer,
  ) {}

  async invoke(request: InvocationRequest): Promise<InvocationResponse> {
    this.requests.push(request);
    if (this.answer) return this.answer(request);
    if (!this.registry.specs.has(request.fn)) throw new FunctionNotFoundError(request.fn);
    return { status: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from('ok'), meta: meta(request) };
  }
  async containerCounts() {
    return this.counts;
  }
  list: ContainerInfo[] = [];
  async containerList(tenant?: string) {
    return this.list.filter((c) => tenant === undefined || c.fn.startsWith(`${tenant}.`));
  }
  async close() {}
  onInvocationFinished(listener: (event: InvocationFinished) => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(event: InvocationFinished) {
    for (const listener of this.listeners) listener(event);
  }
  get listenerCount() {
    return this.listeners.size;
  }
}

export function meta(request: InvocationRequest, over: Partial<InvocationResponse['meta']> = {}): InvocationResponse['meta'] {
  return { invocationId: request.invocationId, fn: request.fn, version: 1, coldStart: false, queueWaitMs: 0, durationMs: 1.25, ...over };
}

export function finished(over: Partial<InvocationFinished> = {}): InvocationFinished {
  return {
    invocationId: 'inv-1',
    fn: 'hello',
    version: 1,
    trigger: 'http',
    startedAt: 1_000,
    endedAt: 1_250,
    durationMs: 250,
    memoryMb: 1024,
    coldStart: true,
    initMs: 180,
    queueWaitMs: 5,
    status: 'ok',
    httpStatus: 200,
    logs: '',
    ...over,
  };
}

/** Holds records in memory and answers rollup queries from them, at minute granularity, as Redis would. */
export class FakeUsage implements UsageRollups {
  readonly queries: RollupQuery[] = [];
  constructor(public records: MeteredRecord[] = []) {}
  async query(q: RollupQuery): Promise<RollupAnswer> {
    this.queries.push(q);
    const from = Math.floor(q.from / 60_000) * 60_000;
    const to = Math.ceil(q.to / 60_000) * 60_000;
    const partials = partialsOf(
      this.records.filter((r) => r.endedAt >= from && r.endedAt < to),
      'minute',
    ).filter((p) => (!q.tenants || q.tenants.includes(p.tenant)) && (!q.fn || p.fn === q.fn));
    return { partials, granularity: 'minute', from, to };
  }
}

export class FakeLogs implements InvocationLogStore {
  readonly entries = new Map<string, InvocationLogEntry[]>();
  readonly limits: number[] = [];
  async recent(fn: string, limit: number) {
    this.limits.push(limit);
    return (this.entries.get(fn) ?? []).slice(0, limit);
  }
  /** Entries newest first; a cursor is how many there were (the oldest-first index to read from). */
  async after(fn: string, cursor: string) {
    const all = [...(this.entries.get(fn) ?? [])].reverse();
    return { entries: all.slice(Number(cursor.split('-')[0])), cursor: `${all.length}-0` };
  }
  async end(fn: string) {
    return `${(this.entries.get(fn) ?? []).length}-0`;
  }
  async clear(fn: string) {
    this.entries.delete(fn);
  }
}

/**
 * Sends a request through the gateway's server as a client's would: to the function trigger or to fastify's
 * router (fastify's own app.inject reaches only the router, never the trigger).
 */
export async function injectRequest(app: FastifyInstance, options: InjectOptions | string): Promise<InjectedResponse> {
  await app.ready();
  return inject((req, res) => app.server.emit('request', req, res), options);
}

export interface TestGateway {
  app: FastifyInstance;
  /** A request through the gateway's server (see injectRequest). */
  inject: (options: InjectOptions | string) => Promise<InjectedResponse>;
  registry: FakeRegistry;
  invoker: FakeInvoker;
  usage: FakeUsage;
  logs: FakeLogs;
}

/** A gateway over fresh fakes; `env` overrides config (e.g. FAAS_MAX_CODE_BYTES). Close `app` after. */
export async function testGateway(env: Record<string, string> = {}): Promise<TestGateway> {
  const config = gatewayConfigOf(loadConfig({ FAAS_PUBLIC_URL: 'https://faas.example', FAAS_TOKEN: TOKEN, ...env }, '/tmp'));
  const registry = new FakeRegistry();
  const invoker = new FakeInvoker(registry);
  const usage = new FakeUsage();
  const logs = new FakeLogs();
  const app = await buildApp({ config, token: TOKEN, registry, invoker, events: invoker, rollups: usage, logs });
  return { app, inject: (options) => injectRequest(app, options), registry, invoker, usage, logs };
}

/** Asserts the `{"error":{"code","message"}}` shape, status and code; returns the message. */
export function errorOf(res: { statusCode: number; body: string }, status: number, code: string): string {
  const body = JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown } };
  if (res.statusCode !== status || body.error?.code !== code || typeof body.error.message !== 'string') {
    throw new Error(`expected ${status} ${code}, got ${res.statusCode} ${res.body}`);
  }
  return body.error.message;
}

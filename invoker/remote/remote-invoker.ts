// Invoker over HTTP: places each function on one live invoker process and relays the invocation frame.
// A call the chosen invoker never received (connection refused or unreachable, the invoker draining) goes at
// once to the next invoker in the function's rendezvous ranking, and the failed invoker is marked down until
// a probe finds it again (invoker-health.ts); a call lost mid-way ends with 502 INVOKER_LOST, never a hang.
import { Agent, Pool, request as httpRequest } from 'undici';
import { CapacityError, InvokerLostError, RemoteFaasError } from '../../core/errors.js';
import { Readable } from 'node:stream';
import type {
  ContainerInfo,
  ContainerState,
  InvocationEvents,
  InvocationFinished,
  InvocationRequest,
  InvocationResponse,
  Invoker,
  InvokeOptions,
} from '../../core/invoker.js';
import type { InvokerEntry } from './invoker-directory.js';
import { InvokerHealth } from './invoker-health.js';
import { rankInvokers } from './placement.js';
import {
  CONTAINER_LIST_PATH,
  CONTAINERS_PATH,
  DRAINING_CODE,
  INVOKE_PATH,
  STREAM_HEADER,
  encodeFrame,
  readHead,
  type RequestHead,
  type ResponseHead,
} from './wire.js';

const EMPTY = Buffer.alloc(0);

/** Connecting to an invoker takes longer than this only when its host is gone: try the next one. */
const CONNECT_TIMEOUT_MS = 1_000;
const PROBE_EVERY_MS = 100;
const PROBE_TIMEOUT_MS = 1_000;

/** Errors of a connection that never carried the call: the invoker did not get it. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);
/** TLS handshake failures (a certificate not trusted, expired, for another name): the call was never sent. */
const TLS_FAILURE = /CERT|SELF_SIGNED|UNABLE_TO_|^ERR_TLS_|^ERR_SSL_|^EPROTO$/;
const neverSent = (code: string) => NOT_CONNECTED.has(code) || TLS_FAILURE.test(code);

const codeOf = (err: unknown): string | undefined => {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.code ?? e?.cause?.code;
};

/** The invoker never got the call: it may go to another one. */
class Undelivered extends Error {}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The bytes already read after the head, then the rest of the body, read as the consumer reads; destroying
 * it drops the connection at once (an idle stream whose caller left must not wait for its next chunk).
 */
function relay(first: Buffer, chunks: AsyncIterator<Buffer>, drop: () => void): Readable {
  const stream = new Readable({
    read() {
      chunks.next().then(
        (next) => this.push(next.done ? null : next.value),
        (err: Error) => this.destroy(err),
      );
    },
    destroy(err, callback) {
      drop();
      callback(err);
    },
  });
  if (first.length > 0) stream.push(first);
  return stream;
}

export interface RemoteInvokerOptions {
  /** Largest upload sent to an invoker (its frame limit): FAAS_MAX_BODY_BYTES. Default 6 MiB. */
  maxBodyBytes?: number;
  /** The live invokers, e.g. InvokerDirectory.current. */
  invokers: () => readonly InvokerEntry[];
  token: string;
  /** Connections per invoker. Default 64. */
  connections?: number;
  /** Reads the directory again now (e.g. InvokerDirectory.refresh): used while waiting for a first invoker. */
  refresh?: () => Promise<unknown>;
  /** With no invoker known, a call waits this long for one to announce itself before 503. Default 0. */
  waitForInvokerMs?: number;
  clock?: () => number;
  /** Told when an invoker is marked down or back up. */
  onHealthChange?: (id: string, up: boolean, reason: string) => void;
  /** CA certificates (PEM) that sign invokers' certificates, for invokers served over https://. */
  tlsCa?: Buffer;
}

/**
 * Metering and invocation metrics stay with the invoker that ran the call (its own /metrics and the
 * shared usage stream), so this side emits no InvocationFinished events: nothing is counted twice.
 */
export class RemoteInvoker implements Invoker, InvocationEvents {
  private readonly pools = new Map<string, Pool>();
  readonly health = new InvokerHealth();
  private readonly clock: () => number;
  private readonly prober: NodeJS.Timeout;
  private readonly probeAgent: Agent;
  private waiting: Promise<void> | undefined;

  constructor(private readonly options: RemoteInvokerOptions) {
    this.clock = options.clock ?? Date.now;
    this.probeAgent = new Agent({ connect: { timeout: CONNECT_TIMEOUT_MS, ...(options.tlsCa ? { ca: options.tlsCa } : {}) } });
    this.prober = setInterval(() => this.probeDue(), PROBE_EVERY_MS);
    this.prober.unref();
  }

  private pool(url: string): Pool {
    let pool = this.pools.get(url);
    if (!pool) {
      pool = new Pool(url, {
        connections: this.options.connections ?? 64,
        pipelining: 1,
        keepAliveTimeout: 60_000,
        connect: { timeout: CONNECT_TIMEOUT_MS, ...(this.options.tlsCa ? { ca: this.options.tlsCa } : {}) },
      });
      this.pools.set(url, pool);
    }
    return pool;
  }

  /**
   * The invoker failed: skipped from now until a probe finds it. Its open calls are left alone (a loaded invoker
   * may be slow to accept, not gone); a probe that reaches no one drops them (probeDue).
   */
  private markDown(target: InvokerEntry, reason: string): void {
    const wasUp = this.health.isUp(target.id);
    this.health.markDown(target.id, this.clock());
    if (wasUp) this.options.onHealthChange?.(target.id, false, reason);
  }

  /** Ends every call still open to this URL (INVOKER_LOST): its host cannot be reached, or it left the directory. */
  private dropPool(url: string): void {
    const pool = this.pools.get(url);
    if (!pool) return;
    this.pools.delete(url);
    void pool.destroy().catch(() => {});
  }

  /**
   * Every tick: connections to invokers that left the directory are dropped, and invokers marked down whose
   * probe is due are probed. A probe that reaches no one (refused, timed out) drops that invoker's connections
   * too: calls still open to a host that went silent end there (INVOKER_LOST) instead of waiting for ever. One
   * that answers (draining, 503) leaves them: its running calls finish.
   */
  private probeDue(): void {
    const invokers = this.options.invokers();
    if (this.pools.size > invokers.length) {
      const listed = new Set(invokers.map((i) => i.url));
      for (const url of [...this.pools.keys()]) if (!listed.has(url)) this.dropPool(url);
    }
    const due = this.health.dueForProbe(this.clock());
    if (due.length === 0) return;
    const byId = new Map(invokers.map((i) => [i.id, i]));
    this.health.retain([...byId.keys()]);
    for (const id of due) {
      const target = byId.get(id);
      if (!target) continue;
      void httpRequest(`${target.url}/healthz`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS), dispatcher: this.probeAgent })
        .then(async (res) => {
          await res.body.dump();
          return res.statusCode === 200 ? 'up' : 'answered';
        })
        .catch(() => 'unreachable' as const)
        .then((outcome) => {
          this.health.probed(id, outcome === 'up', this.clock());
          if (outcome === 'up') this.options.onHealthChange?.(id, true, 'probe answered');
          if (outcome === 'unreachable') this.dropPool(target.url);
        });
    }
  }

  /**
   * The live invokers; with none yet, waits (bounded by waitForInvokerMs) for a first one to announce itself.
   * Calls waiting at once share one wait, so a burst at start reads the directory 10 times a second, not per call.
   */
  private async liveInvokers(): Promise<readonly InvokerEntry[]> {
    const invokers = this.options.invokers();
    const waitMs = this.options.waitForInvokerMs ?? 0;
    if (invokers.length > 0 || waitMs <= 0) return invokers;
    this.waiting ??= (async () => {
      const until = this.clock() + waitMs;
      while (this.options.invokers().length === 0 && this.clock() < until) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        await this.options.refresh?.().catch(() => {});
      }
    })().finally(() => {
      this.waiting = undefined;
    });
    await this.waiting;
    return this.options.invokers();
  }

  onInvocationFinished(_listener: (event: InvocationFinished) => void): () => void {
    return () => {};
  }

  async invoke(request: InvocationRequest, options?: InvokeOptions): Promise<InvocationResponse> {
    const invokers = await this.liveInvokers();
    if (invokers.length === 0) throw new CapacityError('no invoker is running: start one with `faas up --role invoker`');
    const { body: whole, bodyStream, ...head } = request;
    // Across hosts an upload travels in one frame: a streamed one is read here first (the invoker takes
    // frames up to FAAS_MAX_BODY_BYTES and answers 413 beyond).
    if (bodyStream && bodyStream.length > (this.options.maxBodyBytes ?? 6 * 1024 * 1024)) {
      bodyStream.stream.resume();
      throw new RemoteFaasError('PAYLOAD_TOO_LARGE', 413, 'an upload through a remote invoker may be at most FAAS_MAX_BODY_BYTES');
    }
    const body = bodyStream ? await collect(bodyStream.stream) : whole;
    const byId = new Map(invokers.map((i) => [i.id, i]));
    const order = this.health.usable(rankInvokers(request.fn, [...byId.keys()]));
    const failures: string[] = [];
    for (const id of order) {
      const target = byId.get(id)!;
      try {
        return await this.invokeOn(target, head, body, options?.stream === true);
      } catch (err) {
        if (!(err instanceof Undelivered)) throw err;
        failures.push(`${id}: ${err.message}`);
      }
    }
    throw new CapacityError(`no invoker could take the call (${failures.join('; ')})`);
  }

  /** One attempt on one invoker; Undelivered when it never got the call. */
  private async invokeOn(target: InvokerEntry, head: RequestHead, body: Buffer, streaming: boolean): Promise<InvocationResponse> {
    let reply: ResponseHead;
    let rest: Buffer;
    let stream: Readable | undefined;
    let res: Awaited<ReturnType<Pool['request']>>;
    try {
      res = await this.pool(target.url).request({
        path: INVOKE_PATH,
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.options.token}`,
          'content-type': 'application/octet-stream',
          ...(streaming ? { [STREAM_HEADER]: '1' } : {}),
        },
        body: encodeFrame(head, body),
        headersTimeout: 0,
        bodyTimeout: 0,
      });
    } catch (err) {
      const code = codeOf(err);
      if (code && neverSent(code)) {
        this.markDown(target, code);
        throw new Undelivered(`${code} at ${target.url}`);
      }
      this.markDown(target, code ?? (err as Error).message);
      throw new InvokerLostError(`invoker ${target.id} was lost during the call (${code ?? (err as Error).message}); its outcome is unknown`);
    }
    if (res.statusCode === 413) {
      await res.body.dump();
      throw new RemoteFaasError('PAYLOAD_TOO_LARGE', 413, 'an upload through a remote invoker may be at most FAAS_MAX_BODY_BYTES');
    }
    if (res.statusCode !== 200) {
      const text = await res.body.text().catch(() => '');
      if (res.statusCode === 503 && text.includes(DRAINING_CODE)) {
        this.markDown(target, 'draining');
        throw new Undelivered(`${target.id} is draining`);
      }
      throw new CapacityError(`invoker ${target.id} answered ${res.statusCode}: ${text.slice(0, 200)}`);
    }
    try {
      const chunks = res.body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      const start = await readHead<ResponseHead>(chunks);
      reply = start.head;
      if (reply.ok && reply.stream) {
        // The rest of the HTTP body is the function's stream; destroying it (the caller left) drops the
        // connection to the invoker, which aborts the call there.
        stream = relay(start.rest, chunks, () => res.body.destroy());
        rest = EMPTY;
      } else {
        const tail: Buffer[] = [start.rest];
        for (let next = await chunks.next(); !next.done; next = await chunks.next()) tail.push(next.value);
        rest = Buffer.concat(tail);
      }
    } catch (err) {
      const code = codeOf(err);
      this.markDown(target, code ?? (err as Error).message);
      throw new InvokerLostError(`invoker ${target.id} was lost during the call (${code ?? (err as Error).message}); its outcome is unknown`);
    }
    if (!reply.ok) throw new RemoteFaasError(reply.error.code, reply.error.status, reply.error.message);
    return { status: reply.status, headers: reply.headers, body: rest, ...(stream ? { stream } : {}), meta: reply.meta };
  }

  async containerCounts(tenant?: string): Promise<Record<ContainerState, number>> {
    const total: Record<ContainerState, number> = { prewarmed: 0, starting: 0, idle: 0, paused: 0, busy: 0, removing: 0 };
    for (const counts of await this.fromEach<Record<ContainerState, number>>(CONTAINERS_PATH, tenant)) {
      for (const state of Object.keys(total) as ContainerState[]) total[state] += counts[state] ?? 0;
    }
    return total;
  }

  async containerList(tenant?: string): Promise<ContainerInfo[]> {
    return (await this.fromEach<ContainerInfo[]>(CONTAINER_LIST_PATH, tenant)).flat();
  }

  /** One invoker's containers by state (`faas nodes`). */
  containerCountsOn(invoker: InvokerEntry): Promise<Record<ContainerState, number>> {
    return this.fromOne(invoker, CONTAINERS_PATH, undefined);
  }

  private async fromOne<T>(invoker: InvokerEntry, route: string, tenant: string | undefined): Promise<T> {
    const res = await this.pool(invoker.url).request({
      path: tenant === undefined ? route : `${route}?tenant=${encodeURIComponent(tenant)}`,
      method: 'GET',
      headers: { authorization: `Bearer ${this.options.token}` },
    });
    return (await res.body.json()) as T;
  }

  /** The same GET to every live invoker. */
  private fromEach<T>(route: string, tenant: string | undefined): Promise<T[]> {
    return Promise.all(this.options.invokers().map((invoker) => this.fromOne<T>(invoker, route, tenant)));
  }

  async close(): Promise<void> {
    clearInterval(this.prober);
    await this.probeAgent.close();
    await Promise.all([...this.pools.values()].map((p) => p.close()));
  }
}

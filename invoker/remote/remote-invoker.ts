// Invoker over HTTP: places each function on one live invoker process and relays the invocation frame.
import { Pool } from 'undici';
import { CapacityError, RemoteFaasError } from '../../core/errors.js';
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
import { placeFunction } from './placement.js';
import { CONTAINER_LIST_PATH, CONTAINERS_PATH, INVOKE_PATH, STREAM_HEADER, encodeFrame, readHead, type ResponseHead } from './wire.js';

const EMPTY = Buffer.alloc(0);

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
}

/**
 * Metering and invocation metrics stay with the invoker that ran the call (its own /metrics and the
 * shared usage stream), so this side emits no InvocationFinished events: nothing is counted twice.
 */
export class RemoteInvoker implements Invoker, InvocationEvents {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly options: RemoteInvokerOptions) {}

  private pool(url: string): Pool {
    let pool = this.pools.get(url);
    if (!pool) {
      pool = new Pool(url, { connections: this.options.connections ?? 64, pipelining: 1, keepAliveTimeout: 60_000 });
      this.pools.set(url, pool);
    }
    return pool;
  }

  onInvocationFinished(_listener: (event: InvocationFinished) => void): () => void {
    return () => {};
  }

  async invoke(request: InvocationRequest, options?: InvokeOptions): Promise<InvocationResponse> {
    const invokers = this.options.invokers();
    const id = placeFunction(
      request.fn,
      invokers.map((i) => i.id),
    );
    const target = invokers.find((i) => i.id === id);
    if (!target) throw new CapacityError('no invoker is running: start one with `faas up --role invoker`');
    const { body: whole, bodyStream, ...head } = request;
    // Across hosts an upload travels in one frame: a streamed one is read here first (the invoker takes
    // frames up to FAAS_MAX_BODY_BYTES and answers 413 beyond).
    if (bodyStream && bodyStream.length > (this.options.maxBodyBytes ?? 6 * 1024 * 1024)) {
      bodyStream.stream.resume();
      throw new RemoteFaasError('PAYLOAD_TOO_LARGE', 413, 'an upload through a remote invoker may be at most FAAS_MAX_BODY_BYTES');
    }
    const body = bodyStream ? await collect(bodyStream.stream) : whole;
    const streaming = options?.stream === true;
    let reply: ResponseHead;
    let rest: Buffer;
    let stream: Readable | undefined;
    let tooLarge = false;
    try {
      const res = await this.pool(target.url).request({
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
      if (res.statusCode === 413) {
        await res.body.dump();
        tooLarge = true;
        throw new Error('upload over the invoker frame limit');
      }
      if (res.statusCode !== 200) {
        const text = await res.body.text();
        throw new Error(`invoker ${target.id} answered ${res.statusCode}: ${text.slice(0, 200)}`);
      }
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
      if (tooLarge) throw new RemoteFaasError('PAYLOAD_TOO_LARGE', 413, 'an upload through a remote invoker may be at most FAAS_MAX_BODY_BYTES');
      throw new CapacityError(`invoker ${target.id} at ${target.url} failed: ${(err as Error).message}`);
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

  /** The same GET to every live invoker. */
  private fromEach<T>(route: string, tenant: string | undefined): Promise<T[]> {
    return Promise.all(
      this.options.invokers().map(async (invoker) => {
        const res = await this.pool(invoker.url).request({
          path: tenant === undefined ? route : `${route}?tenant=${encodeURIComponent(tenant)}`,
          method: 'GET',
          headers: { authorization: `Bearer ${this.options.token}` },
        });
        return (await res.body.json()) as T;
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
  }
}

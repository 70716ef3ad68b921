// The usage journal's worker thread: ships the journal to Redis off the HTTP event loop. The writer (the
// UsageJournal, on the main thread) nudges it after writes and asks it to flush; it reports errors back.
import { parentPort, workerData } from 'node:worker_threads';
import { JournalShipper } from './journal-shipper.js';
import { connectRedis, ReplicaWait, type RedisTarget } from '../platform/redis-connection.js';

export interface ShipperThreadData {
  redis: RedisTarget;
  prefix: string;
  dir: string;
  journalId: string;
}

/** From the writer: ship soon, ship now and answer, or stop. */
export type ToShipper = { type: 'ship' } | { type: 'flush'; id: number } | { type: 'close' };
/** To the writer: a flush done (or failed), or an error while shipping on its own. */
export type FromShipper = { type: 'flushed'; id: number; error?: string } | { type: 'error'; message: string };

const RETRY_MS = 1_000;

if (parentPort) {
  const port = parentPort;
  const data = workerData as ShipperThreadData;
  const post = (message: FromShipper) => port.postMessage(message);
  // One retry per request while Redis is unreachable, then the command fails: shipping is retried every
  // second, and a flush while closing answers instead of waiting for Redis forever.
  const redis = connectRedis(data.redis, { maxRetriesPerRequest: 1, enableAutoPipelining: false });
  redis.on('error', () => {}); // reported through failed shipments, once per attempt
  let shortToldAt = 0;
  const replicas = new ReplicaWait(redis, data.redis, (acked, wanted, err) => {
    // Once a minute at most: after a failover the new master has no replica until one is added.
    if (Date.now() - shortToldAt < 60_000) return;
    shortToldAt = Date.now();
    post({ type: 'error', message: `usage batches reach ${acked} of ${wanted} Redis replicas (FAAS_REDIS_WAIT_REPLICAS)${err ? `: ${err.message}` : ''}` });
  });
  const shipper = new JournalShipper({
    ...data,
    redis,
    onError: (err) => post({ type: 'error', message: err.message }),
    ...(data.redis.waitReplicas > 0 ? { replicated: () => replicas.afterWrite() } : {}),
  });
  let running: Promise<void> = Promise.resolve();
  let retry: NodeJS.Timeout | undefined;
  /** Ship attempts run one after another; a failed one is retried after RETRY_MS. */
  const ship = (): Promise<void> => {
    const attempt = running.then(() => shipper.shipAll());
    running = attempt.catch(() => {});
    return attempt;
  };
  const shipSoon = () =>
    ship().catch((err: Error) => {
      post({ type: 'error', message: err.message });
      retry ??= setTimeout(() => {
        retry = undefined;
        void shipSoon();
      }, RETRY_MS);
    });
  port.on('message', (message: ToShipper) => {
    if (message.type === 'ship') void shipSoon();
    else if (message.type === 'flush')
      ship().then(
        () => post({ type: 'flushed', id: message.id }),
        (err: Error) => post({ type: 'flushed', id: message.id, error: err.message }),
      );
    else {
      if (retry) clearTimeout(retry);
      void running.finally(() => {
        shipper.close();
        redis.disconnect();
        port.close();
      });
    }
  });
}

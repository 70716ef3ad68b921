// Nothing served goes unbilled: a call's usage record is in the journal before its answer leaves, so killing
// the platform with SIGKILL under load loses none (the journal ships to Redis on the next start).
import { readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatformChild, uniqueName } from '../support/platform.js';
import { requireDocker, startRedis, type TestRedis } from '../support/services.js';

const RUNS = 10;
/** Calls each run serves before its kill timer starts, so every run kills a platform under load. */
const MIN_SERVED_PER_RUN = 12;
let redis: TestRedis;
let dataDir: string;
const token = `test-${randomUUID()}`;
const invokerId = `crash-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  await requireDocker();
  redis = await startRedis();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'faas-crash-'));
});
afterAll(async () => {
  // The killed platform left its containers; they carry its invoker id.
  const docker = await requireDocker();
  const left = await docker.listContainers({ all: true, filters: { label: [`faas.owner=${invokerId}`] } });
  await Promise.all(
    left.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => {}),
    ),
  );
  await redis?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function journalText(): string {
  const dir = path.join(dataDir, 'journal');
  return readdirSync(dir)
    .map((file) => readFileSync(path.join(dir, file), 'utf8'))
    .join('');
}

// Ten platform starts in child processes, each with a fresh cold start (FAAS_PREWARM=0): minutes on a busy machine.
describe('usage records across kill -9', () => {
  it(`loses no served call's record in ${RUNS} SIGKILLs under load`, async () => {
    const name = uniqueName('metered');
    const env = {
      REDIS_URL: redis.url,
      FAAS_DATA_DIR: dataDir,
      FAAS_TOKEN: token,
      FAAS_INVOKER_ID: invokerId,
      FAAS_PREWARM: '0',
      FAAS_LOG_LEVEL: 'error',
    };
    const served: string[] = [];
    for (let run = 0; run < RUNS; run++) {
      const { child, url } = await startPlatformChild(env);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      if (run === 0) {
        const res = await fetch(`${url}/api/v1/functions/${name}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ code: `export default () => 'ok';`, concurrency: 8 }),
        });
        expect(res.status).toBe(201);
      }
      let stop = false;
      let servedThisRun = 0;
      const workers = Array.from({ length: 8 }, async () => {
        while (!stop) {
          try {
            const res = await fetch(`${url}/fn/${name}`);
            if (res.status === 200 && (await res.text()) === 'ok') {
              served.push(res.headers.get('x-faas-invocation-id')!);
              servedThisRun++;
            }
          } catch {
            // The platform was killed mid-call: that call was not served.
          }
        }
      });
      // The kill comes at a random moment once this run is under load, however long the cold start took this hour.
      // (At most two minutes: a run that serves nothing at all still gets killed, and the total check below fails.)
      const giveUpAt = Date.now() + 120_000;
      while (servedThisRun < MIN_SERVED_PER_RUN && Date.now() < giveUpAt) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 400));
      child.kill('SIGKILL');
      await exited;
      stop = true;
      await Promise.all(workers);
    }
    expect(served.length).toBeGreaterThan(RUNS * 10);
    const journal = journalText();
    const lost = served.filter((id) => !journal.includes(id));
    expect(lost).toEqual([]);
  }, 900_000);
});

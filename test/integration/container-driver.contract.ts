// The ContainerDriver contract: one suite every driver runs (Docker now, Kubernetes later), as hono runs one
// router suite against each router.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerDriver, ContainerSpec } from '../../invoker/driver/container-driver.js';
import { createRuntimeConnection } from '../../invoker/runtime/undici-runtime-connection.js';
import { RuntimeListener } from '../../invoker/runtime/runtime-listener.js';

export interface DriverHarness {
  driver: ContainerDriver;
  image: string;
  /** What the engine says about a container's limits, in the spec's units. */
  limitsOf(id: string): Promise<{ memoryMb: number; cpus: number; pidsLimit: number; readOnlyRoot: boolean; network: string; user: string }>;
  close(): Promise<void>;
}

export function describeContainerDriverContract(name: string, make: () => Promise<DriverHarness>): void {
  describe(`ContainerDriver contract: ${name}`, () => {
    let h: DriverHarness;
    let base: string;
    const owner = `contract-${randomUUID().slice(0, 8)}`;
    const started: string[] = [];
    const listeners: RuntimeListener[] = [];

    beforeAll(async () => {
      h = await make();
      base = mkdtempSync(path.join(os.tmpdir(), 'faas-driver-'));
    });
    afterAll(async () => {
      for (const id of started) await h.driver.remove(id);
      for (const listener of listeners) await listener.close();
      await h.close();
      rmSync(base, { recursive: true, force: true });
    });

    async function run(code: string, over: Partial<ContainerSpec> = {}): Promise<{ id: string; channel: RuntimeListener }> {
      const id = randomUUID().slice(0, 12).replace(/-/g, '');
      const codeDir = path.join(base, `code-${id}`);
      const socketDir = path.join(base, `s-${id}`);
      mkdirSync(codeDir, { mode: 0o755 });
      const listener = await RuntimeListener.open(socketDir);
      listeners.push(listener);
      writeFileSync(path.join(codeDir, 'index.mjs'), code, { mode: 0o644 });
      const containerId = await h.driver.run({
        name: `faas-contract-${id}`,
        image: h.image,
        fn: 'contract',
        version: 1,
        memoryMb: 128,
        cpus: 0.5,
        pidsLimit: 64,
        tmpMb: 16,
        network: false,
        env: {},
        codeDir,
        socketDir,
        owner,
        ...over,
      });
      started.push(containerId);
      return { id: containerId, channel: listener };
    }

    it('runs a container whose runtime answers over its socket, with the limits applied', async () => {
      const { id, channel } = await run(`export default () => 'hi';`);
      const connection = createRuntimeConnection(channel, 1);
      await connection.waitReady(10_000);
      await connection.close();
      expect(await h.limitsOf(id)).toEqual({ memoryMb: 128, cpus: 0.5, pidsLimit: 64, readOnlyRoot: true, network: 'none', user: '65534:65534' });
      expect((await h.driver.list(owner)).map((c) => c.id)).toContain(id);
      expect(await h.driver.inspectExit(id)).toMatchObject({ running: true, oomKilled: false });
    });

    it('updates memory and CPU limits of a running container, and renames it', async () => {
      const { id } = await run(`export default () => 'hi';`);
      await h.driver.update(id, { memoryMb: 256, cpus: 1.5 });
      expect(await h.limitsOf(id)).toMatchObject({ memoryMb: 256, cpus: 1.5 });
      await h.driver.rename(id, `faas-renamed-${id.slice(0, 8)}`);
      expect((await h.driver.list(owner)).find((c) => c.id === id)?.name).toBe(`faas-renamed-${id.slice(0, 8)}`);
    });

    it('reports an out-of-memory kill', async () => {
      const { id } = await run(`const keep = []; for (;;) keep.push(Buffer.alloc(8 * 1024 * 1024, 1));`, { memoryMb: 64 });
      let exit = await h.driver.inspectExit(id);
      for (let i = 0; i < 100 && exit?.running; i++) {
        await new Promise((r) => setTimeout(r, 100));
        exit = await h.driver.inspectExit(id);
      }
      expect(exit).toMatchObject({ running: false, oomKilled: true });
    });

    it("returns the tail of a container's own output", async () => {
      const { id, channel } = await run(`console.log('hello from the module'); export default () => 'hi';`);
      const connection = createRuntimeConnection(channel, 1);
      await connection.waitReady(10_000);
      await connection.close();
      expect(await h.driver.logsTail(id, 4096)).toContain('hello from the module');
    });

    it("measures a container's CPU time and peak memory, and starts a new peak after each reading where it can", async () => {
      // At load, 12 MiB written to /tmp (a tmpfs: charged to the container's memory) and deleted again.
      const { id, channel } = await run(
        `import { appendFileSync, unlinkSync } from 'node:fs'; const mb = Buffer.alloc(1 << 20, 1); for (let i = 0; i < 12; i++) appendFileSync('/tmp/big', mb); unlinkSync('/tmp/big'); export default () => 'hi';`,
      );
      const connection = createRuntimeConnection(channel, 1);
      await connection.waitReady(10_000);
      await connection.close();
      const first = await h.driver.usage(id);
      // Starting Node.js costs CPU time and MBs; the peak holds the 12 MiB file.
      expect(first!.cpuNs).toBeGreaterThan(1e6);
      expect(first!.peakMemoryBytes).toBeGreaterThan(17 * 1024 * 1024);
      const second = await h.driver.usage(id);
      expect(second!.cpuNs).toBeGreaterThanOrEqual(first!.cpuNs);
      // A new peak (what the container holds now) no longer includes the file; on cgroup v2 it is the lifetime peak.
      if (first!.peakReset) expect(second!.peakMemoryBytes).toBeLessThan(first!.peakMemoryBytes - 8 * 1024 * 1024);
      else expect(second!.peakMemoryBytes).toBeGreaterThanOrEqual(first!.peakMemoryBytes);
    });

    it('pauses a container so its background work uses no CPU, resumes it to serve again, and removes one paused', async () => {
      // Busy for 5 ms of every 10 ms, between calls as well.
      const { id, channel } = await run(`setInterval(() => { const t = Date.now(); while (Date.now() - t < 5); }, 10); export default () => 'hi';`);
      const connection = createRuntimeConnection(channel, 1);
      await connection.waitReady(10_000);
      const cpuOver = async (ms: number) => {
        const before = (await h.driver.usage(id))!.cpuNs;
        await new Promise((r) => setTimeout(r, ms));
        return ((await h.driver.usage(id))!.cpuNs - before) / 1e6;
      };
      expect(await cpuOver(300)).toBeGreaterThan(50);
      await h.driver.pause(id);
      expect(await cpuOver(300)).toBeLessThan(1);
      await h.driver.resume(id);
      await connection.waitReady(2_000);
      expect(await cpuOver(300)).toBeGreaterThan(50);
      // Resuming one that runs is harmless.
      await h.driver.resume(id);
      await h.driver.pause(id);
      await connection.close();
      await h.driver.remove(id);
      expect(await h.driver.inspectExit(id)).toBeUndefined();
    });

    it('removes a container, and removing it again is fine', async () => {
      const { id } = await run(`export default () => 'hi';`);
      await h.driver.remove(id);
      await h.driver.remove(id);
      expect(await h.driver.inspectExit(id)).toBeUndefined();
      expect((await h.driver.list(owner)).map((c) => c.id)).not.toContain(id);
    });
  });
}

// The engine-agnostic part of the ContainerDriver contract: a container's life as the pool drives it (run,
// list, rename, pause, resume, remove), with no assumption about what runs inside. The Docker driver runs
// it with real containers (test/integration/docker-driver.test.ts), the in-memory engine the unit tests use
// runs it too (test/unit/driver/in-memory-driver.test.ts), so the fake cannot drift from the real thing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerDriver } from '../../invoker/driver/container-driver.js';

export interface LifecycleHarness {
  driver: ContainerDriver;
  /** The owner label the harness's containers carry. */
  owner: string;
  /** Runs one container of function `fn` through the driver; returns its id. */
  run(fn: string): Promise<string>;
  close(): Promise<void>;
}

export function describeDriverLifecycleContract(name: string, make: () => Promise<LifecycleHarness>): void {
  describe(`ContainerDriver lifecycle contract: ${name}`, () => {
    let h: LifecycleHarness;
    beforeAll(async () => {
      h = await make();
    });
    afterAll(async () => {
      for (const c of await h.driver.list(h.owner)) await h.driver.remove(c.id);
      await h.close();
    });

    it('lists a running container under its owner, function and name, and inspects it as running', async () => {
      const id = await h.run('life-a');
      const listed = (await h.driver.list(h.owner)).find((c) => c.id === id);
      expect(listed).toMatchObject({ id, fn: 'life-a', owner: h.owner });
      expect(await h.driver.inspectExit(id)).toMatchObject({ running: true, oomKilled: false });
      expect((await h.driver.list('someone-else')).map((c) => c.id)).not.toContain(id);
    });

    it('renames a container', async () => {
      const id = await h.run('life-b');
      await h.driver.rename(id, `faas-life-renamed-${id.slice(0, 6)}`);
      expect((await h.driver.list(h.owner)).find((c) => c.id === id)?.name).toBe(`faas-life-renamed-${id.slice(0, 6)}`);
    });

    it('pauses and resumes a container (resuming a running one is harmless) and removes one paused', async () => {
      const id = await h.run('life-c');
      await h.driver.pause(id);
      await h.driver.resume(id);
      await h.driver.resume(id);
      expect(await h.driver.inspectExit(id)).toMatchObject({ running: true });
      await h.driver.pause(id);
      await h.driver.remove(id);
      expect(await h.driver.inspectExit(id)).toBeUndefined();
    });

    it('removes a container, removing it again is fine, and it is gone from the list', async () => {
      const id = await h.run('life-d');
      await h.driver.remove(id);
      await h.driver.remove(id);
      expect(await h.driver.inspectExit(id)).toBeUndefined();
      expect((await h.driver.list(h.owner)).map((c) => c.id)).not.toContain(id);
    });
  });
}

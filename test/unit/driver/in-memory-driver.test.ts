// The in-memory engine the pool's unit tests use passes the engine-agnostic part of the driver contract.
import { describeDriverLifecycleContract } from '../../support/driver-lifecycle.contract.js';
import { InMemoryDriver } from '../../support/in-memory/in-memory-engine.js';

describeDriverLifecycleContract('in-memory', async () => {
  const driver = new InMemoryDriver();
  driver.runMs = 0;
  const owner = 'unit-owner';
  return {
    driver,
    owner,
    run: (fn) =>
      driver.run({
        name: `faas-${fn}`,
        image: 'x',
        fn,
        version: 1,
        memoryMb: 128,
        cpus: 1,
        pidsLimit: 64,
        tmpMb: 16,
        network: false,
        env: {},
        codeDir: '/mem/code',
        socketDir: '/mem/sock',
        owner,
      }),
    async close() {},
  };
});

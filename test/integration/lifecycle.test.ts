// Starting and stopping the platform leaves nothing behind in the engine, even mid-start.
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { startTestPlatform, uniqueName } from '../support/platform.js';

const docker = new Docker({ socketPath: '/var/run/docker.sock' });
const containersOf = (owner: string) => docker.listContainers({ all: true, filters: { label: [`faas.owner=${owner}`] } });

describe('platform lifecycle', () => {
  it('removes the prewarmed runtimes it was still starting when stopped at once', async () => {
    const platform = await startTestPlatform();
    await platform.stop();
    expect(await containersOf(platform.config.invokerId)).toEqual([]);
  });

  it('removes its prewarmed and function containers when it stops, even those still starting', async () => {
    const platform = await startTestPlatform();
    const owner = platform.config.invokerId;
    const name = uniqueName('bye');
    await platform.deploy(name, `export default () => 'ok';`, { network: true, maxScale: 2 });
    // Two fresh starts in flight and the prewarmed runtimes still starting when the platform stops.
    const calls = [platform.call(name), platform.call(name)].map((p) =>
      p.then(
        (r) => r.status,
        () => 0,
      ),
    );
    await new Promise((r) => setTimeout(r, 50));
    await platform.stop();
    await Promise.all(calls);
    expect(await containersOf(owner)).toEqual([]);
  });
});

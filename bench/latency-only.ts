// Scratch: warm latency only (gateway vs direct), for quick iteration on the hot path.
import Docker from 'dockerode';
import { Client } from 'undici';
import { ensureRuntimeImage } from '../runtime-images/node/build-image.js';
import { startDirect } from './direct-container.js';
import { NOOP, deploy, sequential, timedCall } from './measure.js';
import { startPlatformProcess } from './platform-process.js';
import { median, percentile } from './stats.js';

const docker = new Docker();
const image = await ensureRuntimeImage(docker);
const platform = await startPlatformProcess();
try {
  await deploy(platform, 'noop', { concurrency: 32, maxScale: 1 });
  const gateway = new Client(platform.url, { pipelining: 1 });
  await timedCall(gateway, '/fn/noop');
  const direct = await startDirect(docker, image, NOOP);
  const dc = new Client('http://localhost', { socketPath: direct.socketPath });
  for (let round = 0; round < 2; round++) {
    const g = await sequential(gateway, '/fn/noop', 1000, 2000);
    const d = await sequential(dc, '/', 1000, 2000);
    console.log(`gateway p50 ${median(g).toFixed(3)} p99 ${percentile(g, 99).toFixed(3)} | direct p50 ${median(d).toFixed(3)} p99 ${percentile(d, 99).toFixed(3)}`);
  }
  await dc.close();
  await gateway.close();
  await direct.remove();
} finally {
  await platform.stop();
}

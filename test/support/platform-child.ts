// A platform in a child process (for tests that kill one with SIGKILL): config from the environment,
// prints `ready <url>` once it listens.
import { loadConfig } from '../../platform/config.js';
import { startPlatform } from '../../platform/start-platform.js';

const running = await startPlatform(loadConfig(), { port: 0, invokerPort: 0 });
process.stdout.write(`ready ${running.url}\n`);
process.on('SIGTERM', () => {
  void running.close().then(() => process.exit(0));
});

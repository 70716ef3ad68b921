// The Redis registry against the registry contract, on a real Redis.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisFunctionRegistry } from '../../registry/redis-function-registry.js';
import { describeFunctionRegistryContract } from '../support/function-registry.contract.js';
import { startRedis } from '../support/services.js';

describeFunctionRegistryContract('redis', async () => {
  const server = await startRedis();
  const redis = new Redis(server.url, { maxRetriesPerRequest: null });
  const registry = await RedisFunctionRegistry.open({ redis, prefix: `reg-${randomUUID().slice(0, 8)}:` });
  return {
    registry,
    async close() {
      redis.disconnect();
      await server.stop();
    },
  };
});

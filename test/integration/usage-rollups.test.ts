// The Redis rollups against the UsageRollups contract, written as the journal's shipping writes them.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { appendRollups, defineRollupCommand, RedisRollupStore } from '../../metering/redis-rollups.js';
import { startRedis } from '../support/services.js';
import { describeUsageRollupsContract } from '../support/usage-rollups.contract.js';

describeUsageRollupsContract('redis', async () => {
  const server = await startRedis();
  const redis = new Redis(server.url, { maxRetriesPerRequest: null });
  const prefix = `ru-${randomUUID().slice(0, 8)}:`;
  defineRollupCommand(redis);
  return {
    rollups: new RedisRollupStore({ redis, prefix }),
    async add(records) {
      const multi = redis.multi();
      appendRollups(multi, prefix, records);
      await multi.exec();
    },
    async close() {
      redis.disconnect();
      await server.stop();
    },
  };
});

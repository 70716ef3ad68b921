// The in-memory rollups the gateway's unit tests read pass the contract the Redis rollups pass.
import { describeUsageRollupsContract } from '../../support/usage-rollups.contract.js';
import { FakeUsage } from '../gateway/fakes.js';

describeUsageRollupsContract('in-memory', async () => {
  const rollups = new FakeUsage();
  return {
    rollups,
    async add(records) {
      rollups.records.push(...records);
    },
    async close() {},
  };
});

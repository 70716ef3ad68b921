// The in-memory registry the unit tests use passes the registry contract the Redis one passes.
import { describeFunctionRegistryContract } from '../../support/function-registry.contract.js';
import { InMemoryRegistry } from '../../support/in-memory/in-memory-registry.js';

describeFunctionRegistryContract('in-memory', async () => ({ registry: new InMemoryRegistry(), async close() {} }));

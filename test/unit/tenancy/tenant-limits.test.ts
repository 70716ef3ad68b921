// What one tenant may deploy in all: functions, distinct queues and topics, cron triggers — a redeploy
// counts only what it adds, and the message names the figures, the limit and its variable.
import { describe, expect, it } from 'vitest';
import { tenantLimitProblem, type TenantLimits } from '../../../tenancy/tenant-limits.js';

const fn = (over: { queues?: string[]; topics?: string[]; schedules?: number } = {}) => ({
  queues: over.queues ?? [],
  topics: over.topics ?? [],
  schedules: Array.from({ length: over.schedules ?? 0 }, () => ({ cron: '0 * * * *' })),
});
const LIMITS: TenantLimits = { maxFunctions: 3, maxQueues: 2, maxTopics: 2, maxSchedules: 3 };

describe('tenantLimitProblem', () => {
  it('counts functions: a new one past the limit is refused, a redeploy of one is not', () => {
    const others = [fn(), fn(), fn()];
    expect(tenantLimitProblem(fn(), others, true, 'acme', LIMITS)).toBe(
      'tenant acme has 3 functions; 1 more would pass its limit of 3 (FAAS_MAX_FUNCTIONS_PER_TENANT): delete functions it no longer uses',
    );
    expect(tenantLimitProblem(fn(), others.slice(1), false, 'acme', LIMITS)).toBeUndefined();
  });

  it('counts distinct queues and topics over all its functions', () => {
    const others = [fn({ queues: ['acme~a'], topics: ['acme~t'] }), fn({ queues: ['acme~b'] })];
    // The same queue again adds nothing (a queue has one consumer, checked elsewhere); a third one does.
    expect(tenantLimitProblem(fn({ queues: ['acme~a'] }), others, true, 'acme', { ...LIMITS, maxFunctions: 10 })).toBeUndefined();
    expect(tenantLimitProblem(fn({ queues: ['acme~c'] }), others, true, 'acme', { ...LIMITS, maxFunctions: 10 })).toBe(
      'tenant acme has 2 queues; 1 more would pass its limit of 2 (FAAS_MAX_QUEUES_PER_TENANT): consume fewer queues',
    );
    expect(tenantLimitProblem(fn({ topics: ['acme~t', 'acme~u', 'acme~v'] }), others, false, 'acme', LIMITS)).toBe(
      'tenant acme has 1 topics; 2 more would pass its limit of 2 (FAAS_MAX_TOPICS_PER_TENANT): subscribe to fewer topics',
    );
  });

  it("counts the tenant's other functions' cron triggers with the deployed ones", () => {
    expect(tenantLimitProblem(fn({ schedules: 2 }), [fn({ schedules: 1 })], false, 'acme', LIMITS)).toBeUndefined();
    expect(tenantLimitProblem(fn({ schedules: 2 }), [fn({ schedules: 1 }), fn({ schedules: 1 })], false, 'acme', LIMITS)).toBe(
      'tenant acme has 2 cron trigger(s) on its other functions; 2 more would pass its limit of 3 (FAAS_MAX_SCHEDULES_PER_TENANT): remove schedules from other functions first',
    );
    expect(tenantLimitProblem(fn(), [fn({ schedules: 10 })], false, 'acme', LIMITS)).toBeUndefined();
    expect(tenantLimitProblem(fn({ schedules: 5 }), [fn({ schedules: 10 })], false, 'acme', {})).toBeUndefined();
  });
});

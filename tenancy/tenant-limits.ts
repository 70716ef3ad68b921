// Pure: how much one tenant may deploy — functions, queues, topics and cron triggers, counted over all its
// functions. Each costs the platform something per tenant that no call pays for: a function's spec is held
// by every platform process and read by each deploy's checks, a queue or topic is a trigger every gateway
// indexes, a cron trigger runs on its own. (Async workers no longer cost a Redis connection per function
// or queue: they run only for queues with work — triggers/doorbell.ts.)
import type { FunctionSpec } from '../core/function-spec.js';

export interface TenantLimits {
  /** FAAS_MAX_FUNCTIONS_PER_TENANT. */
  maxFunctions?: number | undefined;
  /** Distinct queues the tenant's functions consume. FAAS_MAX_QUEUES_PER_TENANT. */
  maxQueues?: number | undefined;
  /** Distinct topics its functions subscribe to. FAAS_MAX_TOPICS_PER_TENANT. */
  maxTopics?: number | undefined;
  /** Cron triggers of all its functions. FAAS_MAX_SCHEDULES_PER_TENANT. */
  maxSchedules?: number | undefined;
}

type Counted = Pick<FunctionSpec, 'queues' | 'topics' | 'schedules'>;

/**
 * Why this deploy would take the tenant past one of its limits, or undefined. `others`: the tenant's other
 * functions as deployed; `isNew`: the deploy creates a function (a redeploy does not add one).
 */
export function tenantLimitProblem(deployed: Counted, others: readonly Counted[], isNew: boolean, tenant: string, limits: TenantLimits): string | undefined {
  const over = (what: string, has: number, adds: number, limit: number | undefined, variable: string, fix: string) =>
    limit !== undefined && adds > 0 && has + adds > limit
      ? `tenant ${tenant} has ${has} ${what}; ${adds} more would pass its limit of ${limit} (${variable}): ${fix}`
      : undefined;
  const distinctNew = (pick: (spec: Counted) => readonly string[]) => {
    const existing = new Set(others.flatMap(pick));
    return { has: existing.size, adds: new Set(pick(deployed).filter((name) => !existing.has(name))).size };
  };
  const queues = distinctNew((s) => s.queues);
  const topics = distinctNew((s) => s.topics);
  return (
    over('functions', others.length, isNew ? 1 : 0, limits.maxFunctions, 'FAAS_MAX_FUNCTIONS_PER_TENANT', 'delete functions it no longer uses') ??
    over('queues', queues.has, queues.adds, limits.maxQueues, 'FAAS_MAX_QUEUES_PER_TENANT', 'consume fewer queues') ??
    over('topics', topics.has, topics.adds, limits.maxTopics, 'FAAS_MAX_TOPICS_PER_TENANT', 'subscribe to fewer topics') ??
    over(
      'cron trigger(s) on its other functions',
      others.reduce((sum, spec) => sum + spec.schedules.length, 0),
      deployed.schedules.length,
      limits.maxSchedules,
      'FAAS_MAX_SCHEDULES_PER_TENANT',
      'remove schedules from other functions first',
    )
  );
}

// Cron triggers: checking an expression and its time zone before a deploy is accepted (pure).
import { CronExpressionParser } from 'cron-parser';
import type { Schedule } from '../core/function-spec.js';

/** Why a schedule cannot be used, or undefined when it can. Same parser as BullMQ's job schedulers. */
export function scheduleProblem(schedule: Schedule): string | undefined {
  const fields = schedule.cron.trim().split(/\s+/).length;
  if (fields < 5 || fields > 6) {
    return `cron expression "${schedule.cron}" has ${fields} fields; use 5 (minute hour day month weekday) or 6 (with seconds first)`;
  }
  if (schedule.timezone !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: schedule.timezone });
    } catch {
      return `time zone "${schedule.timezone}" is not an IANA time zone such as Europe/Paris`;
    }
  }
  try {
    CronExpressionParser.parse(schedule.cron, { tz: schedule.timezone ?? 'UTC', strict: false });
  } catch (err) {
    return `cron expression "${schedule.cron}" is not valid: ${(err as Error).message}`;
  }
  return undefined;
}

/** The next `count` ticks after `from`, for `faas ls` and tests. */
export function nextTicks(schedule: Schedule, from: Date, count: number): Date[] {
  const expression = CronExpressionParser.parse(schedule.cron, { tz: schedule.timezone ?? 'UTC', currentDate: from });
  return Array.from({ length: count }, () => expression.next().toDate());
}

/** Ticks looked at for the shortest gap: enough for any hourly or daily pattern of a list or range field. */
const GAP_SAMPLE_TICKS = 100;

/** The shortest time between two ticks of a valid schedule, ms (over its next GAP_SAMPLE_TICKS ticks from `from`). */
export function shortestIntervalMs(schedule: Schedule, from: Date): number {
  const ticks = nextTicks(schedule, from, GAP_SAMPLE_TICKS);
  let shortest = Number.POSITIVE_INFINITY;
  for (let i = 1; i < ticks.length; i++) shortest = Math.min(shortest, ticks[i]!.getTime() - ticks[i - 1]!.getTime());
  return shortest;
}

// Calendar arithmetic for billing: billing periods (calendar months) and usage buckets (hour, day, month)
// in the plan's time zone, across DST changes. Luxon does the zone math.
import { DateTime } from 'luxon';

export type Interval = 'minute' | 'hour' | 'day' | 'month';
export const INTERVALS: readonly Interval[] = ['minute', 'hour', 'day', 'month'];

/** A billing period: "2026-11" in a zone is [Nov 1 00:00, Dec 1 00:00) local time, as epoch ms. */
export interface Period {
  id: string;
  from: number;
  to: number;
  timeZone: string;
}

export class PeriodError extends Error {}

/** A month of the years 1970 to 9999: usage is never older, and later ones cannot be written as YYYY-MM. */
const PERIOD_PATTERN = /^(19[7-9]\d|[2-9]\d{3})-(0[1-9]|1[0-2])$/;

export function parsePeriod(id: string, timeZone: string): Period {
  const match = PERIOD_PATTERN.exec(id);
  if (!match) {
    const shown = JSON.stringify(id.length > 64 ? `${id.slice(0, 64)}…` : id);
    throw new PeriodError(`period must be a month from 1970-01 to 9999-12 as YYYY-MM (e.g. 2026-11), got ${shown}`);
  }
  const start = DateTime.fromObject({ year: Number(match[1]), month: Number(match[2]), day: 1 }, { zone: timeZone });
  if (!start.isValid) throw new PeriodError(`time zone "${timeZone}" is not valid`);
  return { id, from: start.toMillis(), to: start.plus({ months: 1 }).toMillis(), timeZone };
}

/** The period holding an instant. */
export function periodOf(ms: number, timeZone: string): Period {
  return parsePeriod(DateTime.fromMillis(ms, { zone: timeZone }).toFormat('yyyy-MM'), timeZone);
}

/** Start of the minute, hour, day or month holding an instant, in the zone (a local day may be 23 or 25 hours long). */
export function bucketStart(ms: number, interval: Interval, timeZone: string): number {
  return DateTime.fromMillis(ms, { zone: timeZone }).startOf(interval).toMillis();
}

/** Every bucket start in [from, to) (at most `limit`), for charts that show empty buckets as zero. */
export function bucketStarts(from: number, to: number, interval: Interval, timeZone: string, limit = 10_000): number[] {
  const starts: number[] = [];
  let at = DateTime.fromMillis(bucketStart(from, interval, timeZone), { zone: timeZone });
  while (at.toMillis() < to && starts.length < limit) {
    starts.push(at.toMillis());
    at = at.plus({ [`${interval}s`]: 1 });
  }
  return starts;
}

/** ISO 8601 with the zone's offset, as shown to users: 2026-11-01T00:00:00.000+01:00. */
export function isoInZone(ms: number, timeZone: string): string {
  return DateTime.fromMillis(ms, { zone: timeZone }).toISO()!;
}

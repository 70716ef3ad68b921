import { describe, expect, it } from 'vitest';
import { nextTicks, scheduleProblem, shortestIntervalMs } from '../../../triggers/schedule.js';
import { TriggerIndex } from '../../../triggers/trigger-index.js';
import { defaultFunctionConfig, type FunctionSpec } from '../../../core/function-spec.js';

const spec = (name: string, over: Partial<FunctionSpec> = {}): FunctionSpec => ({
  ...defaultFunctionConfig(),
  name,
  version: 1,
  codeSha256: 'x',
  codeBytes: 1,
  createdAt: '2026-11-24T00:00:00.000Z',
  updatedAt: '2026-11-24T00:00:00.000Z',
  ...over,
});

describe('scheduleProblem', () => {
  it('accepts 5- and 6-field expressions and IANA zones', () => {
    expect(scheduleProblem({ cron: '*/5 * * * *' })).toBeUndefined();
    expect(scheduleProblem({ cron: '*/10 * * * * *' })).toBeUndefined();
    expect(scheduleProblem({ cron: '0 3 * * 1-5', timezone: 'Europe/Paris' })).toBeUndefined();
  });

  it('names what is wrong', () => {
    expect(scheduleProblem({ cron: '* * *' })).toMatch(/3 fields; use 5/);
    expect(scheduleProblem({ cron: '* * * * * * *' })).toMatch(/7 fields/);
    expect(scheduleProblem({ cron: '61 * * * *' })).toMatch(/"61 \* \* \* \*" is not valid/);
    expect(scheduleProblem({ cron: 'a b c d e' })).toMatch(/not valid/);
    expect(scheduleProblem({ cron: '* * * * *', timezone: 'Mars/Olympus' })).toMatch(/time zone "Mars\/Olympus"/);
  });
});

describe('nextTicks', () => {
  it('follows the time zone, across a daylight-saving change', () => {
    // 03:00 in Paris: 02:00 UTC in winter (CET), 01:00 UTC in summer (CEST); DST ends 2026-10-25.
    const ticks = nextTicks({ cron: '0 3 * * *', timezone: 'Europe/Paris' }, new Date('2026-10-24T12:00:00Z'), 2);
    expect(ticks.map((d) => d.toISOString())).toEqual(['2026-10-25T02:00:00.000Z', '2026-10-26T02:00:00.000Z']);
    const summer = nextTicks({ cron: '0 3 * * *', timezone: 'Europe/Paris' }, new Date('2026-07-01T12:00:00Z'), 1);
    expect(summer[0]!.toISOString()).toBe('2026-07-02T01:00:00.000Z');
    expect(nextTicks({ cron: '*/15 * * * *' }, new Date('2026-11-24T10:07:00Z'), 2).map((d) => d.toISOString())).toEqual([
      '2026-11-24T10:15:00.000Z',
      '2026-11-24T10:30:00.000Z',
    ]);
  });
});

describe('TriggerIndex', () => {
  it('finds the consumer of a queue and the subscribers of a topic, and follows deploys and deletes', () => {
    const index = new TriggerIndex();
    index.reset([spec('a', { queues: ['q1'], topics: ['t'] }), spec('b', { topics: ['t', 'u'] })]);
    expect(index.consumerOf('q1')?.name).toBe('a');
    expect(index.consumerOf('q2')).toBeUndefined();
    expect(index.subscribersOf('t').map((s) => s.name)).toEqual(['a', 'b']);
    index.apply('a', spec('a', { version: 2, queues: ['q2'], topics: [] }));
    expect(index.consumerOf('q1')).toBeUndefined();
    expect(index.consumerOf('q2')?.name).toBe('a');
    expect(index.subscribersOf('t').map((s) => s.name)).toEqual(['b']);
    // A late, older version does not undo the newer one.
    index.apply('a', spec('a', { version: 1, queues: ['q1'] }));
    expect(index.consumerOf('q2')?.name).toBe('a');
    index.apply('b', undefined);
    expect(index.subscribersOf('u')).toEqual([]);
    expect([...index.queues().keys()]).toEqual(['q2']);
  });

  it('gives a queue claimed twice (a deploy race) to the older function', () => {
    const index = new TriggerIndex();
    index.reset([spec('new', { queues: ['q'], createdAt: '2026-11-24T02:00:00.000Z' }), spec('old', { queues: ['q'], createdAt: '2026-11-24T01:00:00.000Z' })]);
    expect(index.consumerOf('q')?.name).toBe('old');
    expect([...index.queues()].map(([q, s]) => [q, s.name])).toEqual([['q', 'old']]);
  });

  it('lists one tenant’s functions, following deploys and deletes', () => {
    const index = new TriggerIndex();
    index.reset([spec('acme.a'), spec('acme.b'), spec('globex.a'), spec('plain')]);
    const names = (tenant: string) =>
      index
        .functionsOf(tenant)
        .map((s) => s.name)
        .sort();
    expect(names('acme')).toEqual(['acme.a', 'acme.b']);
    expect(names('globex')).toEqual(['globex.a']);
    expect(names('nobody')).toEqual([]);
    index.apply('acme.a', undefined);
    index.apply('acme.c', spec('acme.c'));
    expect(names('acme')).toEqual(['acme.b', 'acme.c']);
  });
});

describe('shortestIntervalMs', () => {
  const from = new Date('2026-12-02T10:00:00Z');
  it.each([
    ['* * * * * *', 1_000],
    ['*/10 * * * * *', 10_000],
    ['* * * * *', 60_000],
    ['0,1 * * * *', 60_000],
    ['0 0,1 * * *', 3_600_000],
    ['0 3 * * *', 86_400_000],
    ['0 0 0,1 * * *', 3_600_000],
  ])('%s: %d ms', (cron, ms) => {
    expect(shortestIntervalMs({ cron }, from)).toBe(ms);
  });
});

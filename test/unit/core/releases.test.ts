// A function's releases: every change an owner can make is checked and leaves nothing half-done, and each
// call's version is picked as documented (a canary's share, one routing key one version).
import { describe, expect, it } from 'vitest';
import {
  afterDeploy,
  bucketOf,
  firstReleases,
  pickVersion,
  removeAlias,
  removeVersion,
  rollback,
  setAlias,
  setDefaultAlias,
  splitQualifier,
  type Releases,
} from '../../../core/releases.js';

const NOW = '2026-12-07T00:00:00.000Z';
/** A function with versions 1..n deployed in turn (latest on n). */
const deployed = (n: number, keep = 20): Releases => {
  let releases = firstReleases(1, NOW);
  for (let v = 2; v <= n; v++) releases = afterDeploy(releases, v, { promote: true, keep, now: NOW }).releases;
  return releases;
};

describe('releases', () => {
  it('moves latest on every deploy (not with promote off), remembering where it was', () => {
    const two = deployed(2);
    expect(two.aliases.latest).toMatchObject({ version: 2, previous: 1 });
    const held = afterDeploy(two, 3, { promote: false, keep: 20, now: NOW }).releases;
    expect(held.aliases.latest!.version).toBe(2);
    expect(held.versions).toEqual([1, 2, 3]);
  });

  it('keeps the newest versions up to the number kept, and older ones only while an alias routes to them', () => {
    let releases = setAlias(deployed(2, 3), 'f', 'prod', { version: 1 }, NOW);
    for (let v = 3; v <= 6; v++) {
      const next = afterDeploy(releases, v, { promote: true, keep: 3, now: NOW });
      releases = next.releases;
    }
    expect(releases.versions).toEqual([1, 4, 5, 6]);
  });

  it('splits a canary by share; one routing key always gets the same version', () => {
    const releases = setAlias(deployed(2), 'f', 'prod', { version: 1, canary: { version: 2, percent: 10 } }, NOW);
    let onCanary = 0;
    for (let i = 0; i < 10_000; i++) if (pickVersion(releases, 'f', 'prod', `user-${i}`) === 2) onCanary += 1;
    expect(onCanary / 10_000).toBeGreaterThan(0.08);
    expect(onCanary / 10_000).toBeLessThan(0.12);
    const first = pickVersion(releases, 'f', 'prod', 'user-7');
    for (let i = 0; i < 50; i++) expect(pickVersion(releases, 'f', 'prod', 'user-7')).toBe(first);
    expect(pickVersion(releases, 'f', 'prod', undefined, () => 0.05)).toBe(2);
    expect(pickVersion(releases, 'f', 'prod', undefined, () => 0.5)).toBe(1);
    expect(bucketOf('x')).toBeGreaterThanOrEqual(0);
    expect(bucketOf('x')).toBeLessThan(100);
  });

  it('calls the default alias without a qualifier, a version by number, and refuses what does not exist', () => {
    const releases = setDefaultAlias(setAlias(deployed(3), 'f', 'prod', { version: 2 }, NOW), 'f', 'prod');
    expect(pickVersion(releases, 'f', undefined, undefined)).toBe(2);
    expect(pickVersion(releases, 'f', 'latest', undefined)).toBe(3);
    expect(pickVersion(releases, 'f', '1', undefined)).toBe(1);
    expect(() => pickVersion(releases, 'f', '9', undefined)).toThrow(expect.objectContaining({ code: 'VERSION_NOT_FOUND' }));
    expect(() => pickVersion(releases, 'f', 'constructor', undefined)).toThrow(expect.objectContaining({ code: 'ALIAS_NOT_FOUND' }));
    expect(splitQualifier('f@prod')).toEqual({ name: 'f', qualifier: 'prod' });
    expect(splitQualifier('f')).toEqual({ name: 'f' });
  });

  it('refuses bad alias changes with a 4xx and changes nothing', () => {
    const releases = deployed(2);
    const before = structuredClone(releases);
    expect(() => setAlias(releases, 'f', 'prod', { version: 9 }, NOW)).toThrow(expect.objectContaining({ status: 404 }));
    expect(() => setAlias(releases, 'f', 'Prod!', { version: 1 }, NOW)).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => setAlias(releases, 'f', 'prod', { version: 1, canary: { version: 2, percent: 100 } }, NOW)).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => setAlias(releases, 'f', 'prod', { version: 1, canary: { version: 2, percent: 0 } }, NOW)).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => setAlias(releases, 'f', 'prod', { version: 1, canary: { version: 1, percent: 5 } }, NOW)).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => setAlias(releases, 'f', 'prod', { version: 1, canary: { version: 2, percent: 5.001 } }, NOW)).toThrow(
      expect.objectContaining({ status: 400 }),
    );
    expect(() => removeAlias(releases, 'f', 'latest')).toThrow(expect.objectContaining({ status: 409 }));
    expect(() => setDefaultAlias(releases, 'f', 'nope')).toThrow(expect.objectContaining({ status: 404 }));
    expect(() => removeVersion(releases, 'f', 2, 2)).toThrow(expect.objectContaining({ status: 409 }));
    expect(releases).toEqual(before);
  });

  it('rolls back: a canary dropped to its stable version, else to where the alias was, else to the newest older version', () => {
    const canary = setAlias(deployed(2), 'f', 'prod', { version: 1, canary: { version: 2, percent: 10 } }, NOW);
    expect(rollback(canary, 'f', 'prod', undefined, NOW).aliases.prod).toMatchObject({ version: 1 });
    expect(rollback(canary, 'f', 'prod', undefined, NOW).aliases.prod!.canary).toBeUndefined();
    expect(rollback(deployed(3), 'f', 'latest', undefined, NOW).aliases.latest!.version).toBe(2);
    expect(rollback(deployed(3), 'f', 'latest', 1, NOW).aliases.latest!.version).toBe(1);
    expect(() => rollback(deployed(1), 'f', 'latest', undefined, NOW)).toThrow(expect.objectContaining({ status: 409 }));
    // Each rollback one step further back, never forward again to what it just left.
    const once = rollback(deployed(3), 'f', 'latest', undefined, NOW);
    const twice = rollback(once, 'f', 'latest', undefined, NOW);
    expect([once.aliases.latest!.version, twice.aliases.latest!.version]).toEqual([2, 1]);
    // A canary dropped keeps the alias's way back.
    const canaried = setAlias(deployed(3), 'f', 'latest', { version: 3, canary: { version: 2, percent: 1.1 } }, NOW);
    expect(rollback(rollback(canaried, 'f', 'latest', undefined, NOW), 'f', 'latest', undefined, NOW).aliases.latest!.version).toBe(2);
  });

  it('deletes an unrouted older version only', () => {
    const releases = setAlias(deployed(3), 'f', 'prod', { version: 1 }, NOW);
    expect(() => removeVersion(releases, 'f', 1, 3)).toThrow(/prod/);
    expect(removeVersion(releases, 'f', 2, 3).versions).toEqual([1, 3]);
  });
});

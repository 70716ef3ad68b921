// The cgroup reader and freezer over a fake /sys/fs/cgroup tree: both versions, both Docker cgroup drivers, peak resets.
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ANCHOR, CgroupFreezer, FreezeTimeoutError } from '../../../invoker/driver/docker/cgroup-freezer.js';
import { CgroupStats, parseCpu } from '../../../invoker/driver/docker/cgroup-stats.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'cgroup-'));
  roots.push(root);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}

describe('parseCpu', () => {
  it('reads ns from cgroup v1 and usage_usec from cgroup v2', () => {
    expect(parseCpu('123456789\n', 1)).toBe(123_456_789);
    expect(parseCpu('usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n', 2)).toBe(2_500_000);
    expect(parseCpu('nothing here', 2)).toBeNaN();
  });
});

describe('CgroupStats', () => {
  it('reads cgroup v1 with the cgroupfs driver, and resets the peak by writing 0', async () => {
    const root = tree({ 'cpuacct/docker/abc/cpuacct.usage': '5000000\n', 'memory/docker/abc/memory.max_usage_in_bytes': '52428800\n' });
    const stats = new CgroupStats(root);
    expect(stats.read('abc')).toEqual({ cpuNs: 5_000_000, peakMemoryBytes: 52_428_800 });
    expect(stats.resetPeak('abc')).toBe(true);
    expect(readFileSync(path.join(root, 'memory/docker/abc/memory.max_usage_in_bytes'), 'utf8')).toMatch(/^0/);
    // Read again through the descriptors kept open: the new contents, from the start.
    writeFileSync(path.join(root, 'cpuacct/docker/abc/cpuacct.usage'), '6000000\n');
    expect(stats.read('abc')?.cpuNs).toBe(6_000_000);
    stats.forget('abc');
  });

  it('reads cgroup v2 with the systemd driver; its peak is not reset', async () => {
    const root = tree({ 'system.slice/docker-abc.scope/cpu.stat': 'usage_usec 7000\n', 'system.slice/docker-abc.scope/memory.peak': '1048576\n' });
    const stats = new CgroupStats(root);
    expect(stats.read('abc')).toEqual({ cpuNs: 7_000_000, peakMemoryBytes: 1_048_576 });
    expect(stats.resetPeak('abc')).toBe(false);
    stats.forget('abc');
  });

  it('answers undefined for a container whose cgroup is not here', async () => {
    expect(new CgroupStats(tree({})).read('gone')).toBeUndefined();
  });
});

describe('CgroupFreezer', () => {
  it('freezes and thaws through freezer.state on cgroup v1', async () => {
    const root = tree({ 'freezer/docker/abc/freezer.state': 'THAWED\n' });
    const freezer = new CgroupFreezer({ root });
    // A plain file reads back what was written, as the kernel's does once the cgroup is frozen.
    expect(await freezer.freeze('abc')).toBe(true);
    expect(readFileSync(path.join(root, 'freezer/docker/abc/freezer.state'), 'utf8').trim()).toBe('FROZEN');
    expect(await freezer.thaw('abc')).toBe(true);
    expect(readFileSync(path.join(root, 'freezer/docker/abc/freezer.state'), 'utf8').trim()).toBe('THAWED');
  });

  it('on cgroup v2 waits for cgroup.events to say frozen, and thaws again when that does not come in time', async () => {
    const root = tree({ 'system.slice/docker-abc.scope/cgroup.freeze': '0\n', 'system.slice/docker-abc.scope/cgroup.events': 'populated 1\nfrozen 0\n' });
    const freezer = new CgroupFreezer({ root, timeoutMs: 50 });
    await expect(freezer.freeze('abc')).rejects.toBeInstanceOf(FreezeTimeoutError);
    expect(readFileSync(path.join(root, 'system.slice/docker-abc.scope/cgroup.freeze'), 'utf8').trim()).toBe('0');
    // The kernel reports frozen: done.
    writeFileSync(path.join(root, 'system.slice/docker-abc.scope/cgroup.events'), 'populated 1\nfrozen 1\n');
    expect(await freezer.freeze('abc')).toBe(true);
    expect(readFileSync(path.join(root, 'system.slice/docker-abc.scope/cgroup.freeze'), 'utf8').trim()).toBe('1');
  });

  it('on cgroup v1 keeps an empty cgroup of its own frozen, so no freeze or thaw of a container flips the kernel freezer key', async () => {
    const root = tree({ 'freezer/docker/abc/freezer.state': 'THAWED\n', 'freezer/docker/def/freezer.state': 'THAWED\n' });
    const freezer = new CgroupFreezer({ root });
    expect(await freezer.freeze('abc')).toBe(true);
    expect(await freezer.thaw('abc')).toBe(true);
    // The anchor stays frozen with every container thawed.
    expect(readFileSync(path.join(root, 'freezer', ANCHOR, 'freezer.state'), 'utf8')).toBe('FROZEN');
    // Not on v2, where no such key exists.
    const v2 = tree({ 'docker/abc/cgroup.freeze': '0\n', 'docker/abc/cgroup.events': 'populated 1\nfrozen 1\n' });
    expect(await new CgroupFreezer({ root: v2 }).freeze('abc')).toBe(true);
    expect(existsSync(path.join(v2, 'freezer', ANCHOR))).toBe(false);
  });

  it('with the anchor in place, thaws at once (no thread-pool round trip) when no write is queued before it', async () => {
    const root = tree({ 'freezer/docker/abc/freezer.state': 'THAWED\n' });
    const freezer = new CgroupFreezer({ root });
    expect(await freezer.freeze('abc')).toBe(true);
    const thawed = freezer.thaw('abc');
    // Written before the promise is awaited.
    expect(readFileSync(path.join(root, 'freezer/docker/abc/freezer.state'), 'utf8').trim()).toBe('THAWED');
    expect(await thawed).toBe(true);
  });

  it('applies a freeze and a thaw asked back to back in that order, and closes a forgotten container’s files only after its write', async () => {
    const root = tree({ 'freezer/docker/abc/freezer.state': 'THAWED\n' });
    const freezer = new CgroupFreezer({ root });
    const frozen = freezer.freeze('abc');
    const thawed = freezer.thaw('abc');
    freezer.forget('abc');
    await Promise.all([frozen, thawed]);
    expect(readFileSync(path.join(root, 'freezer/docker/abc/freezer.state'), 'utf8').trim()).toBe('THAWED');
    // Forgotten: a later thaw opens the files anew rather than writing through a closed descriptor.
    expect(await freezer.thaw('abc')).toBe(true);
  });

  it('answers false where the freezer is not here, so the engine is asked instead', async () => {
    const freezer = new CgroupFreezer({ root: tree({}) });
    expect(await freezer.freeze('gone')).toBe(false);
    expect(await freezer.thaw('gone')).toBe(false);
  });
});

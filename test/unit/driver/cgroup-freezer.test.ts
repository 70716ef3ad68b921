// CgroupFreezer on a fake cgroup v1 tree: what it writes, and how long a freeze waits for the kernel's report.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CgroupFreezer, FreezeTimeoutError } from '../../../invoker/driver/docker/cgroup-freezer.js';

let root: string;
const id = 'c0ffee';
const stateFile = () => path.join(root, 'freezer', 'docker', id, 'freezer.state');

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'faas-freezer-'));
  mkdirSync(path.dirname(stateFile()), { recursive: true });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A container whose processes never all stop: the state file reads neither FROZEN nor THAWED after the write. */
const neverFrozen = () => writeFileSync(stateFile(), 'FREEZING\n');

describe('CgroupFreezer', () => {
  it('writes FROZEN and THAWED to the container freezer, keeping an anchor cgroup frozen', async () => {
    writeFileSync(stateFile(), 'THAWED\n');
    const freezer = new CgroupFreezer({ root });
    expect(await freezer.freeze(id)).toBe(true);
    expect(readFileSync(stateFile(), 'utf8').trim()).toBe('FROZEN');
    expect(readFileSync(path.join(root, 'freezer', 'faas-freezer-anchor', 'freezer.state'), 'utf8')).toBe('FROZEN');
    expect(await freezer.thaw(id)).toBe(true);
    expect(readFileSync(stateFile(), 'utf8').trim()).toBe('THAWED');
  });

  it('undoes a freeze the kernel never reports done, and says so', async () => {
    neverFrozen();
    const freezer = new CgroupFreezer({ root, timeoutMs: 50 });
    await expect(freezer.freeze(id)).rejects.toBeInstanceOf(FreezeTimeoutError);
    expect(readFileSync(stateFile(), 'utf8')).toMatch(/^THAWED/);
  });

  it('stops waiting for the report when a call wants the container (its thaw follows the freeze)', async () => {
    neverFrozen();
    // Without stopWaiting this freeze would wait ten minutes and then fail (the test times out first).
    const freezer = new CgroupFreezer({ root, timeoutMs: 600_000 });
    const freezing = freezer.freeze(id);
    freezer.stopWaiting(id);
    expect(await freezing).toBe(true);
    expect(await freezer.thaw(id)).toBe(true);
    expect(readFileSync(stateFile(), 'utf8')).toMatch(/^THAWED/);
  });

  it('ignores a stop for a container it has not opened', () => {
    expect(() => new CgroupFreezer({ root }).stopWaiting('unknown')).not.toThrow();
  });
});

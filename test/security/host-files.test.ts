// Attack: another user of the platform's host reads its files. On 2a33dbb the data directory (the admin
// token's file aside) and the usage journal were created 0755: any local user could list the deployed
// functions' code and read every tenant's usage records. Now only the platform's user may enter them,
// and functions still read their code (bind mounts need no way through the host's path).
import { mkdirSync, rmSync, statSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, uniqueName, waitUntil, type TestPlatform } from '../support/platform.js';

let platform: TestPlatform;
// As a data directory an earlier version (or the operator's mkdir) left world-readable.
const dataDir = path.join(os.tmpdir(), `faas-open-${randomUUID().slice(0, 8)}`);

beforeAll(async () => {
  mkdirSync(dataDir, { mode: 0o755 });
  chmodSync(dataDir, 0o755);
  platform = await startTestPlatform({ FAAS_DATA_DIR: dataDir });
});

afterAll(async () => {
  await platform?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const modeOf = (p: string) => statSync(p).mode & 0o777;

describe('files on the host', () => {
  it('closes the data directory and the usage journal to other users, and functions still read their code', async () => {
    const fn = uniqueName('reader');
    expect((await platform.deploy(fn, `export default () => 'code read';`)).status).toBe(201);
    const res = await platform.call(fn);
    expect(await res.text()).toBe('code read');
    expect(modeOf(dataDir)).toBe(0o700);
    const journal = path.join(dataDir, 'journal');
    await waitUntil('the journal directory', async () => (statSync(journal, { throwIfNoEntry: false }) ? true : undefined));
    expect(modeOf(journal)).toBe(0o700);
  });
});

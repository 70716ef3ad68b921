// Sealing secrets: a value opens only under its own tenant and name with a key of the ring; keys come from
// FAAS_SECRETS_KEY or a 0600 key file, and a stored secret whose key is missing stops the start, naming it.
import { mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { newKeyText, parseKey, SecretCipher } from '../../../secrets/secret-cipher.js';
import { keysFromEnv, loadSecretKeys } from '../../../secrets/secrets-key.js';

const key = () => parseKey(newKeyText())!;

describe('secret cipher', () => {
  it('seals with a fresh IV each time and opens only under the same tenant and name', () => {
    const cipher = new SecretCipher([key()]);
    const a = cipher.seal('acme', 'DB', Buffer.from('hunter2'));
    const b = cipher.seal('acme', 'DB', Buffer.from('hunter2'));
    expect(a.data).not.toBe(b.data);
    expect(JSON.stringify(a)).not.toContain('hunter2');
    expect(cipher.open('acme', 'DB', a).toString()).toBe('hunter2');
    expect(() => cipher.open('globex', 'DB', a)).toThrow();
    expect(() => cipher.open('acme', 'OTHER', a)).toThrow();
    expect(() => cipher.open('acme', 'DB', { ...a, data: Buffer.from('x').toString('base64') })).toThrow();
  });

  it('opens values sealed with an older key of the ring, seals with the first', () => {
    const [older, newer] = [key(), key()];
    const sealed = new SecretCipher([older]).seal('t', 'N', Buffer.from('v'));
    const ring = new SecretCipher([newer, older]);
    expect(ring.open('t', 'N', sealed).toString()).toBe('v');
    expect(ring.seal('t', 'N', Buffer.from('v')).kid).toBe(newer.id);
    expect(() => new SecretCipher([newer]).open('t', 'N', sealed)).toThrow(/FAAS_SECRETS_KEY/);
  });

  it('takes keys as base64 or hex, 32 bytes, and names FAAS_SECRETS_KEY when one is wrong', () => {
    expect(parseKey('00'.repeat(32))).toBeDefined();
    expect(parseKey('short')).toBeUndefined();
    expect(keysFromEnv(`${newKeyText()},${newKeyText()}`)).toHaveLength(2);
    expect(() => keysFromEnv('not-a-key')).toThrow(/FAAS_SECRETS_KEY/);
  });

  it('creates a 0600 key file at first start, reads it after, and refuses to start without a stored secret’s key', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'faas-keys-'));
    const [first] = await loadSecretKeys({ envValue: undefined, dataDir, inUse: [] });
    expect(statSync(path.join(dataDir, 'secrets.key')).mode & 0o777).toBe(0o600);
    const [again] = await loadSecretKeys({ envValue: undefined, dataDir, inUse: [first!.id] });
    expect(again!.id).toBe(first!.id);
    const empty = mkdtempSync(path.join(os.tmpdir(), 'faas-keys-'));
    await expect(loadSecretKeys({ envValue: undefined, dataDir: empty, inUse: ['abc'] })).rejects.toThrow(/FAAS_SECRETS_KEY/);
    await expect(loadSecretKeys({ envValue: newKeyText(), dataDir, inUse: [first!.id] })).rejects.toThrow(/FAAS_SECRETS_KEY/);
  });
});

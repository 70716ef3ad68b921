// Where the secrets' keys come from: FAAS_SECRETS_KEY (one key, or several comma-separated during a rotation:
// the first seals), else a key file in the data directory, created (mode 0600) when no secret exists yet.
// A platform whose Redis holds secrets sealed with a key it does not have refuses to start, naming the key.
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../platform/config.js';
import { newKeyText, parseKey, type SecretKey } from './secret-cipher.js';

export const SECRETS_KEY_FILE = 'secrets.key';

/** The keys FAAS_SECRETS_KEY gives (undefined when unset); a malformed one is a ConfigError naming it. */
export function keysFromEnv(value: string | undefined): SecretKey[] | undefined {
  if (!value?.trim()) return undefined;
  return value.split(',').map((part, i) => {
    const key = parseKey(part);
    if (!key) {
      throw new ConfigError(`FAAS_SECRETS_KEY: key ${i + 1} is not 32 bytes as base64 (44 characters) or hex (64); make one with \`openssl rand -base64 32\``);
    }
    return key;
  });
}

/**
 * The key ring: FAAS_SECRETS_KEY's, else the data directory's key file, else — only when `inUse` is empty (no
 * secret stored yet) — a new key file. `inUse`: the ids of the keys stored secrets are sealed with; each must
 * be in the ring.
 */
export async function loadSecretKeys(options: { envValue: string | undefined; dataDir: string; inUse: readonly string[] }): Promise<SecretKey[]> {
  const file = path.join(options.dataDir, SECRETS_KEY_FILE);
  let keys = keysFromEnv(options.envValue);
  if (!keys) {
    const saved = await readFile(file, 'utf8').catch(() => '');
    if (saved.trim()) {
      const key = parseKey(saved);
      if (!key) throw new ConfigError(`${file} does not hold a 32-byte key (base64 or hex); restore it, or set FAAS_SECRETS_KEY`);
      keys = [key];
    } else if (options.inUse.length === 0) {
      // Created only if absent: two processes sharing the data directory that start at once end up with one key.
      const text = newKeyText();
      const made = await writeFile(file, `${text}\n`, { mode: 0o600, flag: 'wx' }).then(
        () => true,
        (err: NodeJS.ErrnoException) => {
          if (err.code === 'EEXIST') return false;
          throw err;
        },
      );
      if (made) await chmod(file, 0o600);
      const key = parseKey(made ? text : await readFile(file, 'utf8'));
      if (!key) throw new ConfigError(`${file} does not hold a 32-byte key (base64 or hex); restore it, or set FAAS_SECRETS_KEY`);
      keys = [key];
    } else {
      throw new ConfigError(
        `secrets are stored sealed with key ${options.inUse.join(', ')}, and neither FAAS_SECRETS_KEY nor ${file} gives a key: set FAAS_SECRETS_KEY to it (every gateway and invoker needs the same key)`,
      );
    }
  }
  const missing = options.inUse.filter((id) => !keys.some((k) => k.id === id));
  if (missing.length > 0) {
    throw new ConfigError(
      `secrets are stored sealed with key ${missing.join(', ')}, which ${options.envValue?.trim() ? 'FAAS_SECRETS_KEY' : file} does not hold: set FAAS_SECRETS_KEY to that key (during a rotation: new,old)`,
    );
  }
  return keys;
}

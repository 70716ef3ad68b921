// Secrets encrypted at rest: AES-256-GCM (node:crypto), a fresh 96-bit IV per value, the tenant and name as
// additional data (a value copied under another tenant or name fails to open). Keys form a ring: the first
// seals, any opens the values sealed with it (rotation: add the new key first, re-seal, drop the old one).
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** A sealed value as stored. */
export interface Sealed {
  /** Id of the key that sealed it (first 8 bytes of its sha256, hex). */
  kid: string;
  iv: string;
  tag: string;
  data: string;
}

export interface SecretKey {
  id: string;
  key: Buffer;
}

export const keyIdOf = (key: Buffer): string => createHash('sha256').update(key).digest('hex').slice(0, 16);

/** A 32-byte key from 44 characters of base64 or 64 of hex, or undefined. */
export function parseKey(text: string): SecretKey | undefined {
  const trimmed = text.trim();
  let key: Buffer;
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) key = Buffer.from(trimmed, 'hex');
  else if (/^[A-Za-z0-9+/]{43}=$/.test(trimmed)) key = Buffer.from(trimmed, 'base64');
  else return undefined;
  return { id: keyIdOf(key), key };
}

export function newKeyText(): string {
  return randomBytes(32).toString('base64');
}

const aad = (tenant: string, name: string) => Buffer.from(`faas-secret\n${tenant}\n${name}`);

export class SecretCipher {
  constructor(private readonly keys: readonly SecretKey[]) {
    if (keys.length === 0) throw new Error('a secret cipher needs a key');
  }

  /** The key new values are sealed with. */
  get currentKeyId(): string {
    return this.keys[0]!.id;
  }

  has(kid: string): boolean {
    return this.keys.some((k) => k.id === kid);
  }

  seal(tenant: string, name: string, value: Buffer): Sealed {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(aad(tenant, name));
    const data = Buffer.concat([cipher.update(value), cipher.final()]);
    return { kid: id, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
  }

  /** Throws when no key of the ring sealed it, or it was altered or moved. */
  open(tenant: string, name: string, sealed: Sealed): Buffer {
    const entry = this.keys.find((k) => k.id === sealed.kid);
    if (!entry) throw new Error(`secret ${name} is sealed with key ${sealed.kid}, which FAAS_SECRETS_KEY does not hold`);
    const decipher = createDecipheriv('aes-256-gcm', entry.key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(aad(tenant, name));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]);
  }
}

/**
 * Secrets at rest (D10): AES-256-GCM with a random 12-byte IV per value and the auth tag,
 * prefixed by the version of the key that encrypted it, so keys can be rotated:
 * the highest version encrypts, every configured version decrypts.
 * Format: `v<version>:<iv>:<tag>:<ciphertext>`, each part base64url.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface KeyringEntry {
  version: number;
  key: Buffer;
}

export interface Decrypted {
  plaintext: string;
  /** True when a key other than the current one was used: the caller should re-encrypt. */
  stale: boolean;
}

export class DecryptionError extends Error {
  constructor(message = 'Failed to decrypt API key') {
    super(message);
    this.name = 'DecryptionError';
  }
}

const FORMAT = /^v(\d+):([\w-]{16}):([\w-]{22}):([\w-]*)$/;

export class Keyring {
  private readonly current: KeyringEntry;
  private readonly byVersion: Map<number, Buffer>;

  constructor(entries: readonly KeyringEntry[]) {
    if (entries.length === 0) throw new Error('A keyring needs at least one key');
    for (const e of entries) if (e.key.length !== 32) throw new Error(`Key version ${e.version} is not 32 bytes`);
    this.current = [...entries].sort((a, b) => b.version - a.version)[0]!;
    this.byVersion = new Map(entries.map((e) => [e.version, e.key]));
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return `v${this.current.version}:${iv.toString('base64url')}:${tag.toString('base64url')}:${data.toString('base64url')}`;
  }

  decrypt(token: string): Decrypted {
    const m = FORMAT.exec(token);
    if (!m) throw new DecryptionError();
    const version = Number(m[1]);
    const key = this.byVersion.get(version);
    if (!key) throw new DecryptionError();
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(m[2]!, 'base64url'));
      decipher.setAuthTag(Buffer.from(m[3]!, 'base64url'));
      const plaintext = Buffer.concat([decipher.update(Buffer.from(m[4]!, 'base64url')), decipher.final()]).toString('utf8');
      return { plaintext, stale: version !== this.current.version };
    } catch {
      throw new DecryptionError();
    }
  }
}

/** The only form in which a key leaves the server: `abc...xyz`; short keys give `***` (§5.9). */
export function maskSecret(plaintext: string): string {
  if (plaintext.length < 6) return '***';
  return `${plaintext.slice(0, 3)}...${plaintext.slice(-3)}`;
}

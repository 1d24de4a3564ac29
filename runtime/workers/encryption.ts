import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { KobanConfigError, KobanEncryptionError, KobanUnknownKeyError } from '../../sdk/errors.js';
import type { EncryptedOptions, EncryptionKey } from '../../sdk/worker-options.js';

export type EncryptionAlgorithm = 'aes-256-gcm' | 'aes-256-ctr';

export interface KeyEntry {
  /** A short public id of the key, stored beside each ciphertext so rotation finds the right key. */
  readonly id: string;
  readonly key: Buffer;
  /** The same key prepared once for node:crypto, which saves work on every job. */
  readonly secret: KeyObject;
}

/** A worker's resolved keys: the first encrypts, any decrypts. */
export interface KeyRing {
  readonly worker: string;
  readonly algorithm: EncryptionAlgorithm;
  readonly current: KeyEntry;
  readonly keys: readonly KeyEntry[];
  /** An HMAC key derived from the current key, for unique fingerprints of encrypted args. */
  readonly fingerprintKey: Buffer;
}

/** Ciphertext and what is needed to open it. `tag` is absent for CTR, which has none. */
export interface Sealed {
  readonly algorithm: EncryptionAlgorithm;
  readonly kid: string;
  readonly iv: Buffer;
  readonly tag: Buffer | undefined;
  readonly data: Buffer;
}

const algorithms: readonly EncryptionAlgorithm[] = ['aes-256-gcm', 'aes-256-ctr'];
const keyHint = 'generate one with: node -e "console.log(crypto.randomBytes(32).toString(\'base64\'))"';

/**
 * Resolves the keys of an `@Encrypted` worker: calls key functions (sync or async), decodes
 * base64, and checks that each key is 32 bytes. Throws KobanConfigError naming the worker and key.
 */
export async function loadKeyRing(options: EncryptedOptions, worker: string): Promise<KeyRing> {
  const where = `${worker} @Encrypted`;
  if (typeof options !== 'object' || options === null) {
    throw new KobanConfigError(`${where}: options must be an object with key or keys`);
  }
  const algorithm = options.algorithm ?? 'aes-256-gcm';
  if (!algorithms.includes(algorithm)) {
    throw new KobanConfigError(
      `${where}: algorithm must be one of ${algorithms.join(', ')}, got ${JSON.stringify(algorithm)}`,
    );
  }
  if ((options.key === undefined) === (options.keys === undefined)) {
    throw new KobanConfigError(
      `${where}: give exactly one of key (the current key) or keys ([current, ...previous])`,
    );
  }
  const sources = options.keys ?? [options.key!];
  if (!Array.isArray(sources) || sources.length === 0) {
    throw new KobanConfigError(`${where}: keys must be a non-empty array, current key first`);
  }
  const label = (index: number) => (options.keys ? `keys[${index}]` : 'key');
  const keys = await Promise.all(
    sources.map((source, index) => resolveKey(source, `${where} ${label(index)}`)),
  );
  const entries = keys.map((key) => ({ id: keyId(key), key, secret: createSecretKey(key) }));
  const current = entries[0]!;
  return {
    worker,
    algorithm,
    current,
    keys: entries,
    fingerprintKey: Buffer.from(hkdfSync('sha256', current.key, Buffer.alloc(0), 'koban unique v1', 32)),
  };
}

async function resolveKey(source: EncryptionKey, where: string): Promise<Buffer> {
  let value: unknown;
  try {
    value = typeof source === 'function' ? await source() : source;
  } catch (error) {
    throw new KobanConfigError(`${where}: the key function threw: ${(error as Error)?.message}`, {
      cause: error,
    });
  }
  let key: Buffer;
  if (typeof value === 'string') {
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value.trim())) {
      throw new KobanConfigError(
        `${where}: expected base64 text of 32 bytes, got text that is not base64; ${keyHint}`,
      );
    }
    key = Buffer.from(value.trim(), 'base64');
  } else if (value instanceof Uint8Array) {
    key = Buffer.from(value);
  } else {
    throw new KobanConfigError(
      `${where}: expected a 32-byte key as base64 text or a Buffer, got ${value === undefined ? 'undefined (is the environment variable set?)' : typeof value}`,
    );
  }
  if (key.length !== 32) {
    throw new KobanConfigError(
      `${where}: expected a 32-byte key for AES-256, got ${key.length} bytes; ${keyHint}`,
    );
  }
  return key;
}

/** Eight characters that identify a key without revealing it (an HMAC of a constant under the key). */
function keyId(key: Buffer): string {
  return createHmac('sha256', key).update('koban key id').digest('base64url').slice(0, 8);
}

/**
 * Encrypts with the current key. `aad` binds the ciphertext to its place (for example the worker
 * name): GCM refuses to open it anywhere else.
 */
export function seal(ring: KeyRing, plaintext: Buffer, aad: string | Buffer): Sealed {
  const { algorithm, current } = ring;
  const iv = randomBytes(algorithm === 'aes-256-gcm' ? 12 : 16);
  if (algorithm === 'aes-256-gcm') {
    const cipher = createCipheriv(algorithm, current.secret, iv);
    cipher.setAAD(aadBytes(aad));
    const data = joined(cipher.update(plaintext), cipher.final());
    return { algorithm, kid: current.id, iv, tag: cipher.getAuthTag(), data };
  }
  const cipher = createCipheriv(algorithm, current.secret, iv);
  return {
    algorithm,
    kid: current.id,
    iv,
    tag: undefined,
    data: joined(cipher.update(plaintext), cipher.final()),
  };
}

/**
 * Decrypts with whichever of the ring's keys wrote the data. Only the worker's own algorithm is
 * accepted: taking CTR for a GCM worker would let altered data through unauthenticated.
 */
export function open(
  ring: KeyRing,
  sealed: Sealed,
  aad: string | Buffer,
  what: string,
  elsewhere = 'another worker',
): Buffer {
  if (sealed.algorithm !== ring.algorithm) {
    throw new KobanEncryptionError(
      `${what} is encrypted with ${sealed.algorithm}, but ${ring.worker} uses ${ring.algorithm}; ` +
        'data is only opened with the algorithm the worker is configured for',
    );
  }
  // Usually one key, the first: looked up without building a list for every job.
  const { keys } = ring;
  let first = 0;
  while (first < keys.length && keys[first]!.id !== sealed.kid) first++;
  if (first === keys.length) {
    throw new KobanUnknownKeyError(
      `${what} was encrypted with key ${sealed.kid}, which is not among ${ring.worker}'s keys ` +
        `(${keys.map((entry) => entry.id).join(', ')}); add the key it was written with to ` +
        '@Encrypted({ keys: [current, ...previous] })',
      sealed.kid,
    );
  }
  if (ring.algorithm === 'aes-256-ctr') {
    const decipher = createDecipheriv(ring.algorithm, keys[first]!.secret, sealed.iv);
    return joined(decipher.update(sealed.data), decipher.final());
  }
  const aadBuffer = aadBytes(aad);
  for (let index = first; index < keys.length; index++) {
    const candidate = keys[index]!;
    if (candidate.id !== sealed.kid) continue;
    try {
      const decipher = createDecipheriv(ring.algorithm, candidate.secret, sealed.iv);
      decipher.setAAD(aadBuffer);
      if (sealed.tag) decipher.setAuthTag(sealed.tag);
      return joined(decipher.update(sealed.data), decipher.final());
    } catch {
      // An eight-character id can collide: try the next key that has it.
    }
  }
  throw new KobanEncryptionError(
    `${what} failed authentication under ${ring.worker}'s key ${sealed.kid}: the stored ciphertext was altered ` +
      `(or it was written for ${elsewhere} and copied here). It cannot be trusted, so it is not used.`,
  );
}

/** GCM and CTR are stream modes: `final()` adds nothing, so the update's output is used as is. */
function joined(head: Buffer, tail: Buffer): Buffer {
  return tail.length === 0 ? head : Buffer.concat([head, tail]);
}

/** Authenticated data as bytes: callers that open many values pass a Buffer they keep. */
function aadBytes(aad: string | Buffer): Buffer {
  return typeof aad === 'string' ? Buffer.from(aad) : aad;
}

/** Base64 that round-trips, so that a malformed envelope is reported rather than half-read. */
export function fromBase64(text: unknown, what: string): Buffer {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw new KobanEncryptionError(`${what} is malformed: expected base64 text, got ${JSON.stringify(text)}`);
  }
  return Buffer.from(text, 'base64');
}

import { KobanEncryptionError } from '../../sdk/errors.js';
import { type EncryptionAlgorithm, fromBase64, type KeyRing, open, seal } from './encryption.js';

export const envelopeKey = '$koban_encrypted';

/**
 * How encrypted args are stored in the jsonb `args` column:
 * `{"$koban_encrypted": {"v":1,"alg":"aes-256-gcm","kid":"…","iv":"…","tag":"…","data":"…"}}`.
 * `kid` names the key (so rotated keys still decrypt), `tag` is GCM's authentication tag, and
 * the worker's stored name is authenticated data: an envelope copied to another worker fails.
 */
export interface ArgsEnvelope {
  readonly v: 1;
  readonly alg: EncryptionAlgorithm;
  readonly kid: string;
  readonly iv: string;
  readonly tag?: string;
  readonly data: string;
}

const aad = (worker: string) => `koban:args:v1:${worker}`;
const aadBuffers = new WeakMap<KeyRing, Buffer>();
/** The authenticated data of a worker's args as bytes, encoded once per key ring, not per job. */
function argsAad(ring: KeyRing): Buffer {
  let bytes = aadBuffers.get(ring);
  if (bytes === undefined) {
    bytes = Buffer.from(aad(ring.worker));
    aadBuffers.set(ring, bytes);
  }
  return bytes;
}

/** Encrypts encoded (JSON-safe) args into the stored envelope. */
export function sealArgs(ring: KeyRing, args: unknown): { readonly [envelopeKey]: ArgsEnvelope } {
  const sealed = seal(ring, Buffer.from(JSON.stringify(args)), argsAad(ring));
  const envelope: ArgsEnvelope = {
    v: 1,
    alg: sealed.algorithm,
    kid: sealed.kid,
    iv: sealed.iv.toString('base64'),
    ...(sealed.tag ? { tag: sealed.tag.toString('base64') } : {}),
    data: sealed.data.toString('base64'),
  };
  return { [envelopeKey]: envelope };
}

export function isArgsEnvelope(value: unknown): boolean {
  return typeof value === 'object' && value !== null && envelopeKey in value;
}

/** Decrypts stored args back to their encoded JSON form. Throws KobanEncryptionError. */
export function openArgs(ring: KeyRing, stored: unknown, jobId: string): unknown {
  const what = `the args of job ${jobId} (${ring.worker})`;
  if (!isArgsEnvelope(stored)) {
    throw new KobanEncryptionError(
      `${what} are stored in clear, but ${ring.worker} is @Encrypted: args that were not encrypted ` +
        'cannot be authenticated, so the job is not run. Insert it again through Koban.',
    );
  }
  const envelope = (stored as Record<string, unknown>)[envelopeKey] as Partial<ArgsEnvelope> | null;
  if (typeof envelope !== 'object' || envelope === null || envelope.v !== 1) {
    throw new KobanEncryptionError(`${what} have a malformed envelope (expected v: 1)`);
  }
  const plaintext = open(
    ring,
    {
      algorithm: envelope.alg as EncryptionAlgorithm,
      kid: String(envelope.kid),
      iv: fromBase64(envelope.iv, `${what}: iv`),
      tag: envelope.tag === undefined ? undefined : fromBase64(envelope.tag, `${what}: tag`),
      data: fromBase64(envelope.data, `${what}: data`),
    },
    argsAad(ring),
    what,
  );
  try {
    return JSON.parse(plaintext.toString('utf8'));
  } catch (error) {
    throw new KobanEncryptionError(`${what} decrypted to text that is not JSON`, { cause: error });
  }
}

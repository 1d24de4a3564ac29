import { KobanEncryptionError } from '../../sdk/errors.js';
import type { ArgsBinding } from '../engine/args-binding.js';
import { type EncryptionAlgorithm, fromBase64, type KeyRing, open, seal } from './encryption.js';

export const envelopeKey = '$koban_encrypted';

/**
 * How encrypted args are stored in the jsonb `args` column:
 * `{"$koban_encrypted": {"v":2,"alg":"aes-256-gcm","kid":"…","iv":"…","tag":"…","data":"…"}}`.
 * `kid` names the key (so rotated keys still decrypt), `tag` is GCM's authentication tag. The
 * authenticated data is the worker's name and what the envelope belongs to (see
 * engine/args-binding.ts): an envelope copied to another worker, or to another job of the same
 * worker, fails. Version 1 envelopes, written before the binding, authenticate the worker only;
 * they still open.
 */
export interface ArgsEnvelope {
  readonly v: 1 | 2;
  readonly alg: EncryptionAlgorithm;
  readonly kid: string;
  readonly iv: string;
  readonly tag?: string;
  readonly data: string;
}

const boundAad = (worker: string, binding: ArgsBinding) =>
  Buffer.from(`koban:args:v2:${worker}:${binding.scope}`);
const workerAad = (worker: string) => `koban:args:v1:${worker}`;

/** Encrypts encoded (JSON-safe) args into the stored envelope, bound to what holds them. */
export function sealArgs(
  ring: KeyRing,
  args: unknown,
  binding: ArgsBinding,
): { readonly [envelopeKey]: ArgsEnvelope } {
  const sealed = seal(ring, Buffer.from(JSON.stringify(args)), boundAad(ring.worker, binding));
  const envelope: ArgsEnvelope = {
    v: 2,
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
export function openArgs(ring: KeyRing, stored: unknown, binding: ArgsBinding): unknown {
  const what = `the args of ${binding.label} (${ring.worker})`;
  if (!isArgsEnvelope(stored)) {
    throw new KobanEncryptionError(
      `${what} are stored in clear, but ${ring.worker} is @Encrypted: args that were not encrypted ` +
        'cannot be authenticated, so the job is not run. Insert it again through Koban.',
    );
  }
  const envelope = (stored as Record<string, unknown>)[envelopeKey] as Partial<ArgsEnvelope> | null;
  if (typeof envelope !== 'object' || envelope === null || (envelope.v !== 1 && envelope.v !== 2)) {
    throw new KobanEncryptionError(`${what} have a malformed envelope (expected v: 1 or 2)`);
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
    envelope.v === 2 ? boundAad(ring.worker, binding) : workerAad(ring.worker),
    what,
    envelope.v === 2 ? 'another job or worker' : 'another worker',
  );
  try {
    return JSON.parse(plaintext.toString('utf8'));
  } catch (error) {
    throw new KobanEncryptionError(`${what} decrypted to text that is not JSON`, { cause: error });
  }
}

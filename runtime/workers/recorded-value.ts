import { promisify } from 'node:util';
import { deflateRaw, inflateRaw } from 'node:zlib';
import type { Codec } from '../../sdk/codec.js';
import { KobanEncryptionError, KobanRecordedLimitError, KobanValidationError } from '../../sdk/errors.js';
import { type EncryptionAlgorithm, type KeyRing, open, seal } from './encryption.js';
import { jsonIssues } from './json-args.js';

const deflate = promisify(deflateRaw);
const inflate = promisify(inflateRaw);

/**
 * The bytes of the `recorded` column: a version byte, a flags byte, then the payload, which is
 * the value's JSON text, deflated when that makes it smaller, then sealed when the worker asks
 * for `@Recorded({ encrypted: true })`. A sealed payload starts with the algorithm, key id, iv
 * and tag, each length-prefixed.
 */
const version = 1;
const deflated = 1;
const encrypted = 2;
const undefinedValue = 4;
/** The job completed, but its value could not be stored: the payload says why. */
const unstorableValue = 8;

/** Values under this many bytes of JSON are stored as they are: deflate would not pay. */
const compressFrom = 512;

export interface RecordedEncoding {
  readonly worker: string;
  readonly codec: Codec<unknown> | undefined;
  readonly limit: number;
  /** The worker's keys, when recorded values are encrypted. */
  readonly ring: KeyRing | undefined;
}

/**
 * What `process` returned, as stored. Uses the result codec when there is one (so a Date comes
 * back a Date); without one, the value must be plain JSON. Throws KobanValidationError, or
 * KobanRecordedLimitError when the stored form is over the limit: either fails the attempt.
 */
export async function encodeRecorded(value: unknown, encoding: RecordedEncoding): Promise<Buffer> {
  if (value === undefined) return Buffer.from([version, undefinedValue]);
  let data: unknown = value;
  if (encoding.codec) data = encoding.codec.encode(value);
  else {
    const issues = jsonIssues(value, 'result');
    if (issues.length > 0) throw new KobanValidationError(issues, encoding.worker);
  }
  let payload: Buffer = Buffer.from(JSON.stringify(data));
  let flags = 0;
  if (payload.length >= compressFrom) {
    const compressed = await deflate(payload);
    if (compressed.length < payload.length) {
      payload = compressed;
      flags |= deflated;
    }
  }
  if (encoding.ring) {
    payload = packSealed(seal(encoding.ring, payload, aad(encoding.worker)));
    flags |= encrypted;
  }
  const stored = Buffer.concat([Buffer.from([version, flags]), payload]);
  if (stored.length > encoding.limit)
    throw new KobanRecordedLimitError(encoding.worker, stored.length, encoding.limit);
  return stored;
}

/** What is stored for a completed job whose value could not be: the reason, in its place. */
export function unstorableRecord(reason: string): Buffer {
  return Buffer.concat([Buffer.from([version, unstorableValue]), Buffer.from(reason)]);
}

/** Why a completed job's value was not stored, when that is what its recorded bytes say. */
export function unstorableReason(stored: Buffer): string | undefined {
  return stored[0] === version && (stored[1] ?? 0) & unstorableValue
    ? stored.subarray(2).toString('utf8')
    : undefined;
}

/** The stored bytes back to the value. Throws KobanEncryptionError or the codec's error. */
export async function decodeRecorded(
  stored: Buffer,
  what: string,
  options: { worker: string; codec: Codec<unknown> | undefined; ring: KeyRing | undefined },
): Promise<unknown> {
  const flags = stored[1] ?? 0;
  if (stored[0] !== version) throw new KobanEncryptionError(`${what}: unknown recorded format ${stored[0]}`);
  if (flags & undefinedValue) return undefined;
  let payload: Buffer = stored.subarray(2);
  if (flags & encrypted) {
    if (!options.ring) {
      throw new KobanEncryptionError(
        `${what} is encrypted, but ${options.worker} has no keys on this node: start Koban with the worker`,
      );
    }
    payload = open(options.ring, unpackSealed(payload, what), aad(options.worker), what);
  }
  if (flags & deflated) payload = await inflate(payload);
  const data = JSON.parse(payload.toString('utf8'));
  return options.codec ? options.codec.decode(data) : data;
}

const aad = (worker: string) => `koban:recorded:v1:${worker}`;
const algorithmCodes: readonly EncryptionAlgorithm[] = ['aes-256-gcm', 'aes-256-ctr'];

function packSealed(sealed: ReturnType<typeof seal>): Buffer {
  const kid = Buffer.from(sealed.kid);
  const tag = sealed.tag ?? Buffer.alloc(0);
  return Buffer.concat([
    Buffer.from([algorithmCodes.indexOf(sealed.algorithm), kid.length]),
    kid,
    Buffer.from([sealed.iv.length]),
    sealed.iv,
    Buffer.from([tag.length]),
    tag,
    sealed.data,
  ]);
}

function unpackSealed(payload: Buffer, what: string): ReturnType<typeof seal> {
  let offset = 0;
  const take = (length: number) => {
    if (offset + length > payload.length)
      throw new KobanEncryptionError(`${what}: the sealed value is truncated`);
    const part = payload.subarray(offset, offset + length);
    offset += length;
    return part;
  };
  const algorithm = algorithmCodes[take(1)[0]!];
  if (!algorithm) throw new KobanEncryptionError(`${what}: unknown encryption algorithm`);
  const kid = take(take(1)[0]!).toString();
  const iv = take(take(1)[0]!);
  const tag = take(take(1)[0]!);
  return { algorithm, kid, iv, tag: tag.length > 0 ? tag : undefined, data: payload.subarray(offset) };
}

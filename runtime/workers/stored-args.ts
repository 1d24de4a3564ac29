import type { Codec } from '../../sdk/codec.js';
import { KobanValidationError } from '../../sdk/errors.js';
import type { JobSpec } from '../../sdk/job-spec.js';
import type { EncodedArgs, StoredArgs } from '../engine/records.js';
import { openArgs, sealArgs } from './encrypted-args.js';
import { jsonIssues } from './json-args.js';
import { applyStructured } from './structured.js';
import { type CatalogWorker, keyRingOf } from './worker-catalog.js';

/**
 * Args from typed value to JSON-safe data, enforcing the worker's contract: the spec's codec,
 * else the catalog entry's codec (both from `npx gen`), else a JSON check plus the `@Structured`
 * lists. Throws KobanValidationError listing every problem. A generated builder encodes its args
 * when it builds the job: they are not encoded again.
 */
export function encodeArgs(spec: JobSpec, entry: CatalogWorker): EncodedArgs {
  if (spec.codec && spec.encoded !== undefined) return spec.encoded as EncodedArgs;
  const codec = (spec.codec ?? entry.args) as Codec<unknown> | undefined;
  if (codec) return codec.encode(spec.args) as EncodedArgs;
  const { structured, name } = entry.definition;
  let args = spec.args;
  const issues =
    typeof args === 'object' && args !== null && !Array.isArray(args)
      ? jsonIssues(args, 'args')
      : [{ path: 'args', message: `expected an object, got ${args === null ? 'null' : typeof args}` }];
  if (structured && issues.length === 0) {
    const checked = applyStructured(args, structured);
    args = checked.value;
    issues.push(...checked.issues);
  }
  if (issues.length > 0) throw new KobanValidationError(issues, name);
  return args as EncodedArgs;
}

/** The args column value: encoded args, sealed in an envelope when the worker is encrypted. */
export function storedArgs(entry: CatalogWorker, encoded: EncodedArgs): StoredArgs {
  return (entry.definition.encrypted
    ? sealArgs(keyRingOf(entry), encoded)
    : encoded) as unknown as StoredArgs;
}

/**
 * Stored args back to what `process` sees: opened when encrypted, then decoded by the codec, or
 * checked against the `@Structured` lists. Throws when they no longer fit: the executor cancels
 * such a job, since every retry would fail the same way.
 */
export function decodeStoredArgs(
  entry: CatalogWorker,
  stored: StoredArgs,
  jobId: string,
  { callback = false } = {},
): unknown {
  const { definition } = entry;
  const data = definition.encrypted ? openArgs(keyRingOf(entry), stored, jobId) : stored;
  // A batch callback job carries the batch's callback args, not the worker's job args.
  if (callback) return data;
  if (entry.args) return entry.args.decode(data);
  if (!definition.structured) return data;
  const { value, issues } = applyStructured(data, definition.structured);
  if (issues.length > 0) throw new KobanValidationError(issues, definition.name);
  return value;
}

/** Stored args in readable form (opened, not decoded), for test helpers that show jobs. */
export function readableArgs(
  entry: CatalogWorker | undefined,
  stored: StoredArgs,
  jobId: string,
): EncodedArgs | StoredArgs {
  if (!entry?.definition.encrypted) return stored;
  return openArgs(keyRingOf(entry), stored, jobId) as EncodedArgs;
}

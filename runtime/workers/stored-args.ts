import type { Codec } from '../../sdk/codec.js';
import { KobanEncryptionError, KobanValidationError } from '../../sdk/errors.js';
import type { JobSpec } from '../../sdk/job-spec.js';
import { type ArgsBinding, bindingOfJob } from '../engine/args-binding.js';
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

/**
 * The args column value: encoded args, or for an encrypted worker an envelope sealed for what
 * holds it (a job's envelope can be sealed only once its id is known: see `sealedLater`).
 */
export function storedArgs(entry: CatalogWorker, encoded: EncodedArgs, binding: ArgsBinding): StoredArgs {
  return (entry.definition.encrypted
    ? sealArgs(keyRingOf(entry), encoded, binding)
    : encoded) as unknown as StoredArgs;
}

/**
 * For a job of an encrypted worker: the args column until the engine knows the job's id, and the
 * function that seals them then. Written as it is, the placeholder refuses to become JSON, so
 * args can never reach the database unsealed.
 */
export function sealedLater(
  entry: CatalogWorker,
  encoded: EncodedArgs,
): { args: StoredArgs; seal: (binding: ArgsBinding) => StoredArgs } {
  const ring = keyRingOf(entry);
  const name = entry.definition.name;
  const placeholder = {
    toJSON() {
      throw new KobanEncryptionError(
        `the args of a ${name} job were about to be written before they were sealed`,
      );
    },
  };
  return {
    args: placeholder as unknown as StoredArgs,
    seal: (binding) => sealArgs(ring, encoded, binding) as unknown as StoredArgs,
  };
}

/**
 * Stored args back to what `process` sees: opened when encrypted, then decoded by the codec, or
 * checked against the `@Structured` lists. Throws when they no longer fit: the executor cancels
 * such a job, since every retry would fail the same way.
 */
export function decodeStoredArgs(entry: CatalogWorker, stored: StoredArgs, job: JobOwner): unknown {
  const { definition } = entry;
  const data = definition.encrypted ? openArgs(keyRingOf(entry), stored, bindingOfJob(job)) : stored;
  // A batch callback job carries the batch's callback args, not the worker's job args.
  if (job.batchCallback !== null) return data;
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
  owner: JobOwner | ArgsBinding,
): EncodedArgs | StoredArgs {
  if (!entry?.definition.encrypted) return stored;
  const binding = 'scope' in owner ? owner : bindingOfJob(owner);
  return openArgs(keyRingOf(entry), stored, binding) as EncodedArgs;
}

/** What a job's args are bound to is read from these columns. */
export type JobOwner = Parameters<typeof bindingOfJob>[0];

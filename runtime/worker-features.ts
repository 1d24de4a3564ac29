import { KobanConfigError } from '../sdk/errors.js';
import { isJobSpec, type JobSpec } from '../sdk/job-spec.js';
import type { WorkerDefinition } from '../sdk/registry.js';
import { type KeyRing, loadKeyRing } from './encryption.js';
import { checkStructuredOptions } from './structured.js';
import { resolveUnique } from './unique.js';
import type { CatalogWorker, WorkerCatalog } from './worker-catalog.js';

const prepared = new WeakSet<CatalogWorker>();
const rings = new WeakMap<CatalogWorker, KeyRing>();

/** The default `@Recorded` limit: 64 KiB after compression. */
export const defaultRecordedLimit = 64 * 1024;

/**
 * Checks a worker's Pro options and resolves its encryption keys, once per catalog entry.
 * `Koban.start` does this for every known worker, so a bad key or option fails at start; a
 * class first seen at insert is prepared then.
 */
export async function prepareWorker(entry: CatalogWorker): Promise<void> {
  if (prepared.has(entry)) return;
  const { definition } = entry;
  checkWorkerFeatures(definition);
  if (definition.encrypted) rings.set(entry, await loadKeyRing(definition.encrypted, definition.name));
  prepared.add(entry);
}

/** Checks what can be checked without keys; also used by the testing helpers. */
export function checkWorkerFeatures(definition: WorkerDefinition): void {
  const { name } = definition;
  if (definition.unique) resolveUnique(definition.unique, `worker ${name}`);
  if (definition.structured) checkStructuredOptions(definition.structured, name);
  const limit = definition.recorded?.limit;
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
    throw new KobanConfigError(`${name} @Recorded: limit must be a positive number of bytes, got ${limit}`);
  }
  if (definition.recorded?.encrypted && !definition.encrypted) {
    throw new KobanConfigError(
      `${name} @Recorded({ encrypted: true }) needs the worker's keys: add @Encrypted({ key }) to ${name}`,
    );
  }
}

export async function prepareCatalog(catalog: WorkerCatalog): Promise<void> {
  await Promise.all(catalog.all().map(prepareWorker));
}

/** Prepares the workers of specs about to be inserted; nothing to await for known workers. */
export async function prepareSpecs(catalog: WorkerCatalog, specs: readonly JobSpec[]): Promise<void> {
  for (const spec of specs) {
    if (!isJobSpec(spec)) continue; // prepareJob reports it
    const entry = catalog.forClass(spec.worker);
    if (!prepared.has(entry)) await prepareWorker(entry);
  }
}

/** The resolved keys of an encrypted worker. */
export function keyRingOf(entry: CatalogWorker): KeyRing {
  const ring = rings.get(entry);
  if (!ring) {
    throw new KobanConfigError(
      `the keys of ${entry.definition.name} are not resolved: the worker was not prepared by Koban.start or insert`,
    );
  }
  return ring;
}

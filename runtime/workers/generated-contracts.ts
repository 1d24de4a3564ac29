import { getWorkerDefinition, type WorkerEntry } from '../../sdk/registry.js';
import type { WorkerClass } from '../../sdk/worker.js';
import { workerContract } from '../../sdk/worker-contract.js';

/**
 * The workers whose entry from `npx gen` was generated from other options than the class has
 * now (another stored name, `@Structured` lists, `@Recorded`): their generated codecs are stale.
 */
export function staleGeneratedWorkers(sources: readonly (WorkerClass | WorkerEntry)[] | undefined): string[] {
  const stale: string[] = [];
  for (const source of sources ?? []) {
    if (typeof source === 'function' || typeof source?.contract !== 'string') continue;
    const definition = getWorkerDefinition(source.worker);
    const current = workerContract({
      name: definition.name,
      structured: definition.structured,
      recorded: definition.recorded !== undefined,
    });
    if (current !== source.contract) stale.push(definition.className);
  }
  return stale.sort();
}

/** The warning `Koban.start` logs for stale generated entries. */
export function staleGeneratedWarning(stale: readonly string[]): string {
  return (
    `the generated module (npx gen) is stale for ${stale.join(', ')}: the worker options it was generated ` +
    'from (name, @Structured, @Recorded) have changed since. Run npx gen again; until then its validators ' +
    'check the old contract'
  );
}

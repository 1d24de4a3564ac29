import { workerAliases } from '../../sdk/registry.js';
import type { WorkerChainLimit } from '../engine/flow.js';
import type { WorkerCatalog } from '../workers/worker-catalog.js';

/**
 * The chains of the chained workers a node runs (`@Worker({ chain })`), by their queue: each
 * queue with one takes the limited claim, which starts only the head of each chain.
 */
export function workerChains(catalog: WorkerCatalog): Map<string, WorkerChainLimit[]> {
  const byQueue = new Map<string, WorkerChainLimit[]>();
  const seen = new Set<string>();
  for (const { worker, definition } of catalog.all()) {
    // An alias maps to the same entry: one chain per worker.
    if (!definition.chain || seen.has(definition.name)) continue;
    seen.add(definition.name);
    const chain: WorkerChainLimit = {
      workers: [definition.name, ...workerAliases(worker)],
      by: definition.chain.by,
      onFailure: definition.chain.onFailure,
    };
    byQueue.set(definition.queue, [...(byQueue.get(definition.queue) ?? []), chain]);
  }
  return byQueue;
}

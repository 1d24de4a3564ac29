import type { ClaimedJob } from '../engine/claim.js';
import { executeChunk } from './chunk-executor.js';
import { type Attempt, type ExecutorDeps, executeJob, type RunningJob } from './executor.js';

/**
 * Runs one claimed job, whatever its worker: a chunk worker's job as a chunk of one, for the paths
 * that run jobs one by one (the drainer, `performJob`, inline testing). Producers gather chunks.
 */
export async function executeAttempt(
  claimed: ClaimedJob,
  deps: ExecutorDeps,
  running: Map<string, RunningJob>,
): Promise<Attempt> {
  const entry = deps.catalog.get(claimed.worker);
  if (!entry?.definition.chunk) return executeJob(claimed, deps, running);
  const [attempt] = await executeChunk([claimed], entry, deps, running);
  return attempt!;
}

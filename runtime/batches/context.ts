import { sql } from 'drizzle-orm';
import type { BatchCallback, JobBatch } from '../../sdk/batch-context.js';
import type { JobRecord } from '../../sdk/job.js';
import { emptyCounts, type JobState } from '../../sdk/states.js';
import { list } from '../database/wire.js';
import type { ClaimedJob } from '../engine/claim.js';
import type { EngineContext } from '../engine/context.js';
import { allJobs } from '../engine/history.js';
import { type JobWireRow, jobColumns, toStoredJob } from '../engine/records.js';
import { readableJobs } from '../workers/readable-jobs.js';
import type { WorkerCatalog } from '../workers/worker-catalog.js';

/** `job.batch` for a claimed job of a batch, or a batch's callback job. */
export function jobBatch(ctx: EngineContext, catalog: WorkerCatalog, job: ClaimedJob): JobBatch {
  const id = job.batchId!;
  return {
    id,
    name: job.batchName,
    callback: job.batchCallback as BatchCallback | null,
    jobs: (filter = {}) => batchJobs(ctx, catalog, id, filter.states),
    counts: () => batchCounts(ctx, id),
  };
}

/** The batch's jobs, callback jobs excluded, in insert order. */
async function batchJobs(
  ctx: EngineContext,
  catalog: WorkerCatalog,
  id: string,
  states?: readonly JobState[],
): Promise<JobRecord[]> {
  const rows = await ctx.database.query<JobWireRow>(sql`
    SELECT ${jobColumns('j')} FROM ${allJobs(ctx.schema)} j
    WHERE j.batch_id = ${id}::uuid AND j.batch_callback IS NULL
      AND ${states ? sql`j.state = ANY(${list(states, 'text')})` : sql`true`}
    ORDER BY j.id`);
  return readableJobs(catalog, rows.map(toStoredJob));
}

/** How many of the batch's jobs are in each state, callback jobs excluded. */
export async function batchCounts(ctx: EngineContext, id: string): Promise<Record<JobState, number>> {
  const rows = await ctx.database.query<{ state: JobState; count: number }>(sql`
    SELECT state, count(*)::int AS count FROM ${allJobs(ctx.schema)} j
    WHERE batch_id = ${id}::uuid AND batch_callback IS NULL GROUP BY state`);
  const counts = emptyCounts();
  for (const row of rows) counts[row.state] = row.count;
  return counts;
}

import { sql } from 'drizzle-orm';
import type { BatchCallback, JobBatch } from '../../sdk/batch-context.js';
import type { JobRecord } from '../../sdk/job.js';
import { emptyCounts, type JobState } from '../../sdk/states.js';
import type { Database } from '../database/database.js';
import type { ClaimedRow } from '../engine/claim.js';
import { type JobRow, jobRowColumns } from '../engine/job-row.js';
import { readableJobs } from '../job-queries.js';
import type { WorkerCatalog } from '../workers/worker-catalog.js';

/** What `job.batch` reads through. */
export interface BatchAccess {
  readonly database: Database;
  readonly schema: string;
  readonly catalog: WorkerCatalog;
}

/** `job.batch` for a claimed job of a batch, or a batch's callback job. */
export function jobBatch(access: BatchAccess, row: ClaimedRow): JobBatch {
  const id = row.batchId!;
  return {
    id,
    name: row.batchName,
    callback: row.batchCallback as BatchCallback | null,
    jobs: (filter = {}) => batchJobs(access, id, filter.states),
    counts: () => batchCounts(access, id),
  };
}

/** The batch's jobs, callback jobs excluded, in insert order. */
async function batchJobs(
  access: BatchAccess,
  id: string,
  states?: readonly JobState[],
): Promise<JobRecord[]> {
  const rows = await access.database.query<JobRow>(sql`
    SELECT ${jobRowColumns('j')} FROM ${sql.raw(access.schema)}.jobs j
    WHERE j.batch_id = ${id}::uuid AND j.batch_callback IS NULL
      AND ${states ? sql`j.state = ANY(${sql.param([...states])}::text[])` : sql`true`}
    ORDER BY j.id`);
  return readableJobs(access.catalog, rows);
}

/** How many of the batch's jobs are in each state, callback jobs excluded. */
export async function batchCounts(
  access: Pick<BatchAccess, 'database' | 'schema'>,
  id: string,
): Promise<Record<JobState, number>> {
  const rows = await access.database.query<{ state: JobState; count: number }>(sql`
    SELECT state, count(*)::int AS count FROM ${sql.raw(access.schema)}.jobs
    WHERE batch_id = ${id}::uuid AND batch_callback IS NULL GROUP BY state`);
  const counts = emptyCounts();
  for (const row of rows) counts[row.state] = row.count;
  return counts;
}

import { type SQL, sql } from 'drizzle-orm';
import { list } from '../database/wire.js';
import type { EngineContext } from './context.js';
import { type JobWireRow, jobColumnList, jobColumns, type StoredJob, toStoredJob } from './records.js';

/** A claimed job: its record, and the names of its workflow and batch (for `job.workflow.name`, `job.batch.name`). */
export type ClaimedJob = StoredJob & {
  readonly workflowName: string | null;
  readonly batchName: string | null;
};

type ClaimedWireRow = JobWireRow & { workflowName: string | null; batchName: string | null };

/**
 * Claims up to `limit` available jobs of a queue for this node in one statement. The CTE fences
 * the `FOR UPDATE SKIP LOCKED` subquery so the planner locks exactly the rows it will update, and
 * `= ANY(ARRAY(...))` makes it update them through the primary key: a join lets it hash the whole
 * table, completed history included. A workflow's name is looked up only for workflow steps.
 */
export function claimJobs(
  ctx: EngineContext,
  queue: string,
  limit: number,
  node: string,
): Promise<ClaimedJob[]> {
  return claim(
    ctx,
    sql`
      SELECT id FROM ${sql.raw(ctx.schema)}.jobs
      WHERE state = 'available' AND queue = ${queue}
      ORDER BY priority, scheduled_at, id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED`,
    node,
  );
}

/** Claims the given jobs that are available, whatever their queue: for the drainer. */
export function claimJobsById(
  ctx: EngineContext,
  ids: readonly string[],
  node: string,
): Promise<ClaimedJob[]> {
  return claim(
    ctx,
    sql`
      SELECT id FROM ${sql.raw(ctx.schema)}.jobs
      WHERE id = ANY(${list(ids, 'bigint')}) AND state = 'available'
      FOR UPDATE SKIP LOCKED`,
    node,
  );
}

async function claim(
  { database, schema }: EngineContext,
  claimable: SQL,
  node: string,
): Promise<ClaimedJob[]> {
  const s = sql.raw(schema);
  // The update returns rows in no particular order: they come back in the queue's (priority,
  // due time, id), sorted by the database among the few rows claimed.
  const rows = await database.query<ClaimedWireRow>(sql`
    WITH claimable AS MATERIALIZED (${claimable}), claimed AS (
      UPDATE ${s}.jobs j
      SET state = 'executing', attempt = j.attempt + 1, attempted_at = now(),
          attempted_by = array_append(j.attempted_by, ${node}::text)
      WHERE j.id = ANY(ARRAY(SELECT id FROM claimable))
      RETURNING ${jobColumns('j')}, j.scheduled_at AS due,
        CASE WHEN j.workflow_id IS NULL THEN NULL
          ELSE (SELECT w.name FROM ${s}.workflows w WHERE w.id = j.workflow_id) END AS "workflowName",
        CASE WHEN j.batch_id IS NULL THEN NULL
          ELSE (SELECT b.name FROM ${s}.batches b WHERE b.id = j.batch_id) END AS "batchName"
    )
    SELECT ${sql.raw(claimedFields)} FROM claimed ORDER BY priority, due, id::bigint`);
  return rows.map(toClaimedJob);
}

const claimedFields = `${jobColumnList('claimed', (_, field) => `claimed."${field}"`)}, "workflowName", "batchName"`;

function toClaimedJob(row: ClaimedWireRow): ClaimedJob {
  const job = toStoredJob(row) as StoredJob & { workflowName: string | null; batchName: string | null };
  job.workflowName = row.workflowName;
  job.batchName = row.batchName;
  return job;
}

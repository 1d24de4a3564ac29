import { type SQL, sql } from 'drizzle-orm';
import type { EngineContext } from './context.js';
import { type JobRow, jobRowColumns, toDate } from './job-row.js';

/** A claimed job: its row, and the names of its workflow and batch (for `job.workflow.name`, `job.batch.name`). */
export type ClaimedRow = JobRow & { workflowName: string | null; batchName: string | null };

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
): Promise<ClaimedRow[]> {
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

/** Claims the given jobs that are available, whatever their queue: for the testing helpers. */
export function claimJobsById(
  ctx: EngineContext,
  ids: readonly string[],
  node: string,
): Promise<ClaimedRow[]> {
  return claim(
    ctx,
    sql`
      SELECT id FROM ${sql.raw(ctx.schema)}.jobs
      WHERE id = ANY(${sql.param(ids)}::bigint[]) AND state = 'available'
      FOR UPDATE SKIP LOCKED`,
    node,
  );
}

async function claim(
  { database, schema }: EngineContext,
  claimable: SQL,
  node: string,
): Promise<ClaimedRow[]> {
  const s = sql.raw(schema);
  const rows = await database.query<ClaimedRow>(sql`
    WITH claimable AS MATERIALIZED (${claimable})
    UPDATE ${s}.jobs j
    SET state = 'executing', attempt = j.attempt + 1, attempted_at = now(),
        attempted_by = array_append(j.attempted_by, ${node}::text)
    WHERE j.id = ANY(ARRAY(SELECT id FROM claimable))
    RETURNING ${jobRowColumns('j')},
      CASE WHEN j.workflow_id IS NULL THEN NULL
        ELSE (SELECT w.name FROM ${s}.workflows w WHERE w.id = j.workflow_id) END AS "workflowName",
      CASE WHEN j.batch_id IS NULL THEN NULL
        ELSE (SELECT b.name FROM ${s}.batches b WHERE b.id = j.batch_id) END AS "batchName"`);
  return inRunOrder(rows);
}

/**
 * Orders claimed rows as the queue does (priority, due time, id). The update returns them in no
 * particular order; the keys are computed once per row, not once per comparison.
 */
function inRunOrder<Row extends JobRow>(rows: Row[]): Row[] {
  if (rows.length < 2) return rows;
  const keyed = rows.map((row) => ({ row, due: toDate(row.scheduledAt).getTime(), id: BigInt(row.id) }));
  keyed.sort(
    (a, b) => a.row.priority - b.row.priority || a.due - b.due || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return keyed.map((entry) => entry.row);
}

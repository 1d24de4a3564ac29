import { type SQL, sql } from 'drizzle-orm';
import type { BatchCallback } from '../../sdk/batch-context.js';
import type { JobError, JsonObject } from '../../sdk/job.js';
import type { Executor } from '../database/executor.js';
import { epochMs, list } from '../database/wire.js';
import type { EngineContext } from './context.js';
import { beforeDeadline } from './deadlines.js';
import { pastPosition, positionOf, type QueuePosition } from './queue-position.js';
import type { StoredArgs, StoredJob } from './records.js';

/**
 * A claimed job: its record, the names of its workflow and batch (for `job.workflow.name`,
 * `job.batch.name`), and the states in which its unique key guards (for the ack). Its progress
 * is not read: the attempt sets it (`job.progress(value)`), and the claim stays lean.
 */
export type ClaimedJob = Omit<StoredJob, 'progress'> & {
  readonly workflowName: string | null;
  readonly batchName: string | null;
  readonly uniqueStates: number | null;
};

/** What a claim of a queue took, and where in the queue's order its last job was. */
export interface QueueClaim {
  readonly jobs: ClaimedJob[];
  readonly last: QueuePosition | undefined;
}

/** `signal` cancels the claim in the server; `after` starts it past a position of the queue. */
export interface QueueClaimOptions {
  readonly signal?: AbortSignal | undefined;
  readonly after?: QueuePosition | undefined;
}

/**
 * Claims up to `limit` available jobs of a queue for this node in one statement, past `after`
 * when given. The CTE fences the `FOR UPDATE SKIP LOCKED` subquery so the planner locks exactly
 * the rows it will update, and `= ANY(ARRAY(...))` makes it update them through the primary key:
 * a join lets it hash the whole table, completed history included. A workflow's name is looked
 * up only for workflow steps.
 */
export async function claimJobs(
  ctx: EngineContext,
  queue: string,
  limit: number,
  node: string,
  options: QueueClaimOptions = {},
): Promise<QueueClaim> {
  const past = options.after ? sql` AND ${pastPosition('j', options.after)}` : sql``;
  return claimInOrder(
    ctx,
    sql`
      SELECT id FROM ${sql.raw(ctx.schema)}.jobs j
      WHERE state = 'available' AND queue = ${queue}${past} AND ${beforeDeadline('j')}
      ORDER BY priority, scheduled_at, id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED`,
    node,
    undefined,
    options.signal,
  );
}

/** Claims what `claimable` selects, as `claim` does, with the position of the last job taken. */
export async function claimInOrder(
  ctx: EngineContext,
  claimable: SQL,
  node: string,
  tx?: Executor,
  signal?: AbortSignal,
): Promise<QueueClaim> {
  const rows = await claimRows(ctx, claimable, node, tx, signal);
  const final = rows.at(-1);
  return {
    jobs: rows.map((row) => toClaimedJob(row, node)),
    last: final && positionOf(final.priority, final.scheduledAt ?? final.insertedAt, final.id),
  };
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
      SELECT id FROM ${sql.raw(ctx.schema)}.jobs j
      WHERE id = ANY(${list(ids, 'bigint')}) AND state = 'available' AND ${beforeDeadline('j')}
      FOR UPDATE SKIP LOCKED`,
    node,
  );
}

/**
 * What a claim returns of each job: only what the attempt needs and the database decides. The
 * state is `executing`, the finish times are null and the queue is the claim's, so they are not
 * sent; the rest is read in the forms every driver returns alike (see records.ts). What most jobs
 * share is sent as null and filled in here: an empty meta, the first attempt's `attempted_by` (this
 * node alone) and a due time equal to the insert time. Each saves the database an output
 * conversion per row, and the claim is the statement its CPU is spent on.
 */
interface ClaimedWireRow {
  readonly id: string;
  readonly queue: string;
  readonly worker: string;
  readonly args: unknown;
  readonly meta: JsonObject | null;
  readonly tags: string[] | null;
  readonly errors: JobError[] | null;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly priority: number;
  readonly insertedAt: number;
  readonly scheduledAt: number | null;
  readonly attemptedAt: number;
  readonly attemptedBy: string[] | null;
  readonly workflowId: string | null;
  readonly workflowStep: string | null;
  readonly batchId: string | null;
  readonly batchCallback: string | null;
  readonly workflowName: string | null;
  readonly batchName: string | null;
  readonly uniqueStates: number | null;
}

/**
 * Claims the jobs that `claimable` (a query of ids) selects, in a transaction when given `tx`:
 * the limited claims of flow-claim.ts select their own and share this update.
 */
export async function claim(
  ctx: EngineContext,
  claimable: SQL,
  node: string,
  tx?: Executor,
  signal?: AbortSignal,
): Promise<ClaimedJob[]> {
  const rows = await claimRows(ctx, claimable, node, tx, signal);
  return rows.map((row) => toClaimedJob(row, node));
}

/** The claim's statement, its rows as they come from the wire, in the queue's order. */
async function claimRows(
  { database, schema }: EngineContext,
  claimable: SQL,
  node: string,
  tx: Executor | undefined,
  signal: AbortSignal | undefined,
): Promise<ClaimedWireRow[]> {
  const s = sql.raw(schema);
  // The update returns rows in no particular order: they come back in the queue's (priority,
  // due time, id), sorted by the database among the few rows claimed. The sort names the CTE's
  // columns: the output's `id` is text, and "10" sorts before "9".
  return database.query<ClaimedWireRow>(
    sql`
    WITH claimable AS MATERIALIZED (${claimable}), claimed AS (
      UPDATE ${s}.jobs j
      SET state = 'executing', attempt = j.attempt + 1, attempted_at = now(),
          attempted_by = array_append(j.attempted_by, ${node}::text)
      WHERE j.id = ANY(ARRAY(SELECT id FROM claimable))
      RETURNING j.id, j.queue, j.worker, j.args, CASE WHEN j.meta = '{}' THEN NULL ELSE j.meta END AS meta,
        CASE WHEN cardinality(j.tags) = 0 THEN NULL ELSE to_json(j.tags) END AS tags,
        CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS errors,
        j.attempt, j.max_attempts, j.priority, j.inserted_at, j.scheduled_at, j.attempted_at,
        CASE WHEN cardinality(j.attempted_by) = 1 THEN NULL ELSE to_json(j.attempted_by) END AS attempted_by, j.workflow_id, j.workflow_step, j.batch_id,
        j.batch_callback, j.unique_states,
        CASE WHEN j.workflow_id IS NULL THEN NULL
          ELSE (SELECT w.name FROM ${s}.workflows w WHERE w.id = j.workflow_id) END AS workflow_name,
        CASE WHEN j.batch_id IS NULL THEN NULL
          ELSE (SELECT b.name FROM ${s}.batches b WHERE b.id = j.batch_id) END AS batch_name
    )
    SELECT id::text AS id, queue, worker, args, meta, tags, errors, attempt, max_attempts AS "maxAttempts",
      priority, ${sql.raw(epochMs('inserted_at'))} AS "insertedAt", CASE WHEN scheduled_at = inserted_at THEN NULL ELSE ${sql.raw(epochMs('scheduled_at'))} END AS "scheduledAt",
      ${sql.raw(epochMs('attempted_at'))} AS "attemptedAt", attempted_by AS "attemptedBy",
      workflow_id AS "workflowId", workflow_step AS "workflowStep", batch_id AS "batchId",
      batch_callback AS "batchCallback", workflow_name AS "workflowName", batch_name AS "batchName",
      unique_states AS "uniqueStates"
    FROM claimed c ORDER BY c.priority, c.scheduled_at, c.id`,
    tx,
    signal ? { signal } : {},
  );
}

/** The claimed job, built in one step from the narrow row: it runs once per claimed job. */
function toClaimedJob(row: ClaimedWireRow, node: string): ClaimedJob {
  return {
    id: row.id,
    state: 'executing',
    queue: row.queue,
    worker: row.worker,
    args: row.args as StoredArgs,
    meta: row.meta ?? {},
    tags: row.tags ?? [],
    errors: row.errors ?? [],
    attempt: row.attempt,
    maxAttempts: row.maxAttempts,
    priority: row.priority,
    insertedAt: new Date(row.insertedAt),
    scheduledAt: new Date(row.scheduledAt ?? row.insertedAt),
    attemptedAt: new Date(row.attemptedAt),
    completedAt: null,
    cancelledAt: null,
    discardedAt: null,
    attemptedBy: row.attemptedBy ?? [node],
    workflowId: row.workflowId,
    workflowStep: row.workflowStep,
    batchId: row.batchId,
    batchCallback: row.batchCallback as BatchCallback | null,
    workflowName: row.workflowName,
    batchName: row.batchName,
    uniqueStates: row.uniqueStates,
  };
}

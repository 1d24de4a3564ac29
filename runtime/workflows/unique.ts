import { sql } from 'drizzle-orm';
import type { WorkflowUnique } from '../../sdk/workflow.js';
import type { Executor } from '../database/executor.js';
import type { EngineContext } from '../engine/context.js';
import { allJobs } from '../engine/history.js';
import type { InsertedJob } from '../engine/insert.js';
import { type JobWireRow, jobColumns, toStoredJob } from '../engine/records.js';

/** The first key of the advisory locks of unique workflow keys (the second is the key's hash). */
const uniqueWorkflowLockSpace = 7_361_206;

/**
 * The check a unique workflow's insert makes first. Inserts of one key take turns on a
 * transaction-scoped advisory lock, so each reads, in a snapshot taken after the lock, what the
 * one before it committed: exactly one workflow goes in, however many connections insert it at
 * once (in READ COMMITTED, where each statement sees what committed before it). A workflow of the
 * key inserted less than `period` ago answers with its jobs, marked `conflict`.
 */
export function existingWorkflow(
  ctx: EngineContext,
  unique: WorkflowUnique,
): (tx: Executor) => Promise<InsertedJob[] | null> {
  const s = sql.raw(ctx.schema);
  const period = unique.period === undefined || unique.period === 'infinity' ? null : unique.period;
  return async (tx) => {
    await ctx.database.query(
      sql`SELECT pg_advisory_xact_lock(${uniqueWorkflowLockSpace}, hashtext(${`${ctx.schema}.${unique.key}`}))`,
      tx,
    );
    const [found] = await ctx.database.query<{ id: string }>(
      sql`SELECT w.id::text AS id FROM ${s}.workflows w
        WHERE w.unique_key = ${unique.key}
          AND (${period}::float8 IS NULL OR w.inserted_at > now() - ${period}::float8 * interval '1 second')
        ORDER BY w.inserted_at DESC LIMIT 1`,
      tx,
    );
    if (!found) return null;
    const rows = await ctx.database.query<JobWireRow>(
      sql`SELECT ${jobColumns('j')} FROM ${allJobs(ctx.schema)} j WHERE j.workflow_id = ${found.id}::uuid ORDER BY j.id`,
      tx,
    );
    return rows.map((row) => ({ ...toStoredJob(row), conflict: true }) as unknown as InsertedJob);
  };
}

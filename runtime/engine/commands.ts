import { sql } from 'drizzle-orm';
import { isFinalState } from '../../sdk/states.js';
import type { Executor } from '../database/executor.js';
import type { EngineContext } from './context.js';
import { historyColumns } from './history-columns.js';
import { type JobSelection, whereSelection } from './job-filter.js';
import { reportTransitions } from './report.js';
import { signal } from './signals.js';
import { finalStateList } from './state-sql.js';
import { type JobTransition, transitionColumns } from './transitions.js';
import { wakeAvailable } from './wake.js';

/**
 * Runs a write that returns transitions in a transaction, with the subscribers' writes, then
 * aborts the jobs it took from executing on whatever node runs them.
 */
async function command(
  ctx: EngineContext,
  write: (tx: Executor) => Promise<JobTransition[]>,
  report: (transition: JobTransition) => boolean = () => true,
): Promise<JobTransition[]> {
  const transitions = await ctx.database.transaction(async (tx) => {
    const made = await write(tx);
    await reportTransitions(ctx, tx, made.filter(report));
    return made;
  });
  const executing = transitions.filter((row) => row.previous === 'executing').map((row) => row.id);
  if (executing.length > 0) await signal(ctx, { action: 'abort', ids: executing });
  return transitions;
}

/**
 * Cancels the selected jobs that have not finished; running ones are aborted. A `reason` is
 * kept in each job's errors, as the error of its current attempt. Returns how many.
 */
export async function cancelJobs(
  ctx: EngineContext,
  selection: JobSelection,
  reason?: string,
): Promise<number> {
  const s = sql.raw(ctx.schema);
  const errors =
    reason === undefined
      ? sql`j.errors`
      : sql`array_append(j.errors, jsonb_build_object('attempt', j.attempt, 'at', now(), 'error', ${`cancelled: ${reason}`}::text))`;
  const cancelled = await command(ctx, (tx) =>
    ctx.database.query<JobTransition>(
      sql`
        WITH target AS MATERIALIZED (
          SELECT id, state, attempt FROM ${s}.jobs
          WHERE ${whereSelection(selection)} AND state NOT IN ${finalStateList}
          ORDER BY id
          FOR UPDATE
        )
        UPDATE ${s}.jobs j SET state = 'cancelled', cancelled_at = now(), errors = ${errors}
        FROM target WHERE j.id = target.id
        RETURNING ${transitionColumns('j', 'target.state', 'target.attempt')}`,
      tx,
    ),
  );
  return cancelled.length;
}

/** Deletes the selected jobs, finished ones included; running ones are aborted. Returns how many. */
export async function deleteJobs(ctx: EngineContext, selection: JobSelection): Promise<number> {
  const s = sql.raw(ctx.schema);
  const deleted = await command(
    ctx,
    (tx) =>
      ctx.database.query<JobTransition>(
        sql`
          WITH unfinished AS (
            DELETE FROM ${s}.jobs j WHERE ${whereSelection(selection)}
            RETURNING ${transitionColumns('j', 'j.state', 'j.attempt', `'deleted'`)}
          ), finished AS (
            DELETE FROM ${s}.job_history j WHERE ${whereSelection(selection)}
            RETURNING ${transitionColumns('j', 'j.state', 'j.attempt', `'deleted'`)}
          ), deleted AS (
            SELECT * FROM unfinished UNION ALL SELECT * FROM finished
          ), edges AS (
            DELETE FROM ${s}.workflow_deps e USING deleted
            WHERE deleted."workflowId" IS NOT NULL AND e.job_id = deleted.id::bigint
          )
          SELECT * FROM deleted`,
        tx,
      ),
    // A job that had finished has been reported already; only unfinished ones change anything.
    (transition) => !isFinalState(transition.previous),
  );
  return deleted.length;
}

/**
 * Runs the selected finished, retryable or scheduled jobs again now, granting one more attempt
 * where none is left. Executing and available jobs are left alone, and so is a unique job whose
 * key another job holds now: running it again would make it a duplicate. A workflow step whose
 * deps have not all finished waits for them again (`held`): a dep retried by the same call
 * counts as unfinished, so its dependents wait for its new attempt. A deadline that has passed is
 * dropped: a job retried by hand is meant to run. Finished jobs come back from
 * the history into the jobs table first, as they were; then all are retried in one statement.
 */
export async function retryJobs(ctx: EngineContext, selection: JobSelection): Promise<number> {
  const s = sql.raw(ctx.schema);
  const retried = await command(
    ctx,
    async (tx) => {
      await ctx.database.query(
        sql`
          WITH back AS (
            DELETE FROM ${s}.job_history h
            WHERE ${whereSelection(selection)}
              AND (h.unique_key IS NULL OR NOT EXISTS (
                SELECT 1 FROM ${s}.jobs holder WHERE holder.unique_active = h.unique_key))
            RETURNING h.*
          )
          INSERT INTO ${s}.jobs (${sql.raw(historyColumnList)})
          SELECT ${sql.raw(historyColumnList)} FROM back`,
        tx,
      );
      return ctx.database.query<JobTransition>(
        sql`
          WITH selected AS MATERIALIZED (
            SELECT t.id, t.state FROM ${s}.jobs t
            WHERE ${whereSelection(selection)}
              AND t.state IN ('completed', 'discarded', 'cancelled', 'retryable', 'scheduled')
              AND (t.unique_key IS NULL OR NOT EXISTS (
                SELECT 1 FROM ${s}.jobs holder WHERE holder.unique_active = t.unique_key AND holder.id <> t.id))
            ORDER BY t.id
            FOR UPDATE OF t
          ), target AS MATERIALIZED (
            -- Deps still unfinished count now; deps this call takes out of a final state are
            -- counted by the workflow extension when it hears of their reopening (waitAgain),
            -- as for any step already waiting: the step waits either way.
            SELECT t.id, t.state, count(d.id) FILTER (WHERE d.state NOT IN ${finalStateList})::int AS pending,
              count(r.id)::int AS reopened
            FROM selected t
            LEFT JOIN ${s}.workflow_deps e ON e.job_id = t.id
            LEFT JOIN ${s}.jobs d ON d.id = e.dep_id
            LEFT JOIN selected r ON r.id = e.dep_id AND r.state IN ${finalStateList}
            GROUP BY t.id, t.state
          ), retried AS (
            UPDATE ${s}.jobs j SET
              state = CASE WHEN target.pending + target.reopened > 0 THEN 'held' ELSE 'available' END,
              deps_remaining = CASE WHEN target.pending + target.reopened > 0 THEN target.pending ELSE j.deps_remaining END,
              scheduled_at = now(), max_attempts = greatest(j.max_attempts, j.attempt + 1),
              completed_at = NULL, cancelled_at = NULL, discarded_at = NULL,
              deadline_at = CASE WHEN j.deadline_at <= now() THEN NULL ELSE j.deadline_at END
            FROM target WHERE j.id = target.id
            RETURNING ${transitionColumns('j', 'target.state', 'j.attempt')}
          ), ${wakeAvailable(ctx.schema, 'retried')}
          SELECT * FROM retried, woken`,
        tx,
      );
    },
    (transition) => isFinalState(transition.previous),
  );
  return retried.length;
}

const historyColumnList = historyColumns.join(', ');

import { sql } from 'drizzle-orm';
import { list } from '../database/wire.js';
import type { EngineContext } from '../engine/context.js';
import { allJobs } from '../engine/history.js';
import { reportTransitions } from '../engine/report.js';
import { finalStateList, initialStateSql } from '../engine/state-sql.js';
import { type JobTransition, transitionColumns } from '../engine/transitions.js';
import { wakeAvailable } from '../engine/wake.js';
import { countsAsDoneSql, ignoreBits } from './rules.js';

/** Held steps looked at per sweep, so that one sweep stays short however many steps wait. */
const windowSize = 1000;

export interface SweepResult {
  /** Where the next sweep starts: after this id, or from the start again at '0'. */
  readonly next: string;
  readonly released: number;
  readonly cancelled: number;
}

/**
 * The safety net of workflows. Steps are released in the transaction that finishes their last
 * dep, so a held step whose deps have all finished means that release was lost: a row edited by
 * hand, a dep pruned or deleted away, or a crash between statements. The sweeper looks at a
 * window of held steps, and resolves those whose deps have all finished (or are gone) from the
 * deps themselves, not from the step's count:
 * - once `waitingDelay` has passed since the last dep finished, a step whose deps all count as
 *   done is released, and one whose dep failed (and is not ignored) is cancelled;
 * - a step that waits for a deleted dep (and does not ignore deletion) cannot be resolved; after
 *   `waitingLimit` further `waitingDelay`s it is cancelled with that reason.
 */
export async function sweepHeldSteps(ctx: EngineContext, after: string): Promise<SweepResult> {
  const s = sql.raw(ctx.schema);
  return ctx.database.transaction(async (tx) => {
    const window = await ctx.database.query<{ id: string }>(
      sql`SELECT id::text AS id FROM ${s}.jobs WHERE state = 'held' AND id > ${after}::bigint ORDER BY id LIMIT ${windowSize}`,
      tx,
    );
    const next = window.length < windowSize ? '0' : window[window.length - 1]!.id;
    if (window.length === 0) return { next, released: 0, cancelled: 0 };
    const notDone = `NOT ${countsAsDoneSql('d.state', 'e.ignore')}`;
    const changed = await ctx.database.query<JobTransition>(
      sql`
        WITH stuck AS MATERIALIZED (
          SELECT st.id, st.inserted_at FROM ${s}.jobs st
          WHERE st.id = ANY(${list(
            window.map((row) => row.id),
            'bigint',
          )}) AND st.state = 'held'
            AND NOT EXISTS (
              SELECT 1 FROM ${s}.workflow_deps e JOIN ${s}.jobs d ON d.id = e.dep_id
              WHERE e.job_id = st.id AND d.state NOT IN ${finalStateList})
          ORDER BY st.id
          FOR UPDATE OF st SKIP LOCKED
        ), status AS (
          SELECT st.id,
            coalesce(max(coalesce(d.completed_at, d.cancelled_at, d.discarded_at)), st.inserted_at) AS settled_at,
            min(e.waiting_delay) AS delay, min(e.waiting_limit) AS waiting_limit,
            (array_agg(e.dep_step || '" (job ' || d.id || ') was ' || d.state ORDER BY e.dep_step)
              FILTER (WHERE d.id IS NOT NULL AND ${sql.raw(notDone)}))[1] AS failed,
            (array_agg(e.dep_step ORDER BY e.dep_step)
              FILTER (WHERE d.id IS NULL AND e.ignore & ${ignoreBits.deleted} = 0))[1] AS deleted
          FROM stuck st JOIN ${s}.workflow_deps e ON e.job_id = st.id LEFT JOIN ${allJobs(ctx.schema)} d ON d.id = e.dep_id
          GROUP BY st.id, st.inserted_at
        ), verdict AS (
          SELECT id,
            CASE
              WHEN now() < settled_at + delay * interval '1 millisecond' THEN NULL
              WHEN failed IS NOT NULL THEN 'cancelled: workflow dep "' || failed || '; found by the workflow sweeper'
              WHEN deleted IS NULL THEN 'release'
              WHEN now() >= settled_at + delay * (waiting_limit + 1) * interval '1 millisecond'
                THEN 'cancelled: workflow dep "' || deleted || '" was deleted before it finished, and ' ||
                  waiting_limit || ' checks later it is still gone; set ignoreDeleted on the step to run it anyway'
            END AS outcome
          FROM status
        ), swept AS (
          UPDATE ${s}.jobs j SET
            deps_remaining = 0,
            state = CASE WHEN v.outcome = 'release' THEN ${sql.raw(initialStateSql('j.scheduled_at', null))} ELSE 'cancelled' END,
            cancelled_at = CASE WHEN v.outcome = 'release' THEN j.cancelled_at ELSE now() END,
            errors = CASE WHEN v.outcome = 'release' THEN j.errors
              ELSE array_append(j.errors, jsonb_build_object('attempt', j.attempt, 'at', now(), 'error', v.outcome)) END
          FROM verdict v
          WHERE v.outcome IS NOT NULL AND j.id = v.id
          RETURNING ${transitionColumns('j', `'held'`, 'j.attempt')}
        ), ${wakeAvailable(ctx.schema, 'swept')}
        SELECT * FROM swept, woken`,
      tx,
    );
    const cancelled = changed.filter((row) => row.state === 'cancelled');
    await reportTransitions(ctx, tx, cancelled);
    return { next, released: changed.length - cancelled.length, cancelled: cancelled.length };
  });
}

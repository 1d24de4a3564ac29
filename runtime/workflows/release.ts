import { sql } from 'drizzle-orm';
import { isFinalState } from '../../sdk/states.js';
import type { Executor } from '../database/executor.js';
import { list } from '../database/wire.js';
import type { EngineContext } from '../engine/context.js';
import { initialStateSql } from '../engine/state-sql.js';
import { type JobTransition, type TransitionSubscriber, transitionColumns } from '../engine/transitions.js';
import { wakeAvailable } from '../engine/wake.js';
import { countsAsDoneSql, ignoreOption } from './rules.js';

/**
 * The workflow side of the engine's transitions. A dep that finished counts down the steps
 * waiting for it, under their row locks, in the transaction that finished it: the step whose
 * count reaches zero is released (available, or scheduled when its time is ahead), exactly once
 * however many deps finish at the same instant. A dep that ended cancelled, discarded or
 * deleted cancels its waiting steps unless they ignore that outcome; the cancellations are
 * reported in turn, which cancels their own dependents. A dep moved out of a final state by a
 * retry makes its waiting steps wait for it again.
 */
export function releaseSubscriber(ctx: EngineContext): TransitionSubscriber {
  return async (tx, transitions) => {
    const finished: JobTransition[] = [];
    const reopened: string[] = [];
    for (const transition of transitions) {
      if (transition.state === 'deleted' || isFinalState(transition.state)) finished.push(transition);
      else if (isFinalState(transition.previous)) reopened.push(transition.id);
    }
    if (reopened.length > 0) await waitAgain(ctx, tx, reopened);
    return finished.length > 0 ? releaseDependents(ctx, tx, finished) : [];
  };
}

/** A dep that finished, and the one step it concerns when not all of its waiting steps. */
export interface FinishedDep {
  readonly id: string;
  readonly state: string;
  readonly only?: string;
}

/** Counts finished deps off their waiting steps; returns the transitions of the steps it cancelled. */
export async function releaseDependents(
  ctx: EngineContext,
  tx: Executor,
  finished: readonly FinishedDep[],
): Promise<JobTransition[]> {
  const s = sql.raw(ctx.schema);
  const ok = countsAsDoneSql('f.state', 'e.ignore');
  const rows = await ctx.database.query<JobTransition>(
    sql`
      WITH hits AS MATERIALIZED (
        SELECT e.job_id, count(*)::int AS n,
          (array_agg(e.dep_step ORDER BY e.dep_step) FILTER (WHERE NOT ${sql.raw(ok)}))[1] AS failed_step,
          (array_agg(f.state ORDER BY e.dep_step) FILTER (WHERE NOT ${sql.raw(ok)}))[1] AS failed_state,
          (array_agg(f.id ORDER BY e.dep_step) FILTER (WHERE NOT ${sql.raw(ok)}))[1] AS failed_id
        FROM unnest(${list(
          finished.map((row) => row.id),
          'bigint',
        )}, ${list(
          finished.map((row) => row.state),
          'text',
        )},
          ${list(
            finished.map((row) => row.only ?? null),
            'bigint',
          )}) AS f(id, state, only_job)
        JOIN ${s}.workflow_deps e ON e.dep_id = f.id AND (f.only_job IS NULL OR e.job_id = f.only_job)
        GROUP BY e.job_id
      ), locked AS MATERIALIZED (
        -- Each waiting step found by its primary key, and locked in id order so that concurrent
        -- releases cannot deadlock. The counts travel with the lock: joining two CTEs instead
        -- lets the planner, which guesses one row for each, compare every pair (10^8 for a
        -- 10,000-wide fan-out).
        SELECT j.id, h.n, h.failed_step, h.failed_state, h.failed_id
        FROM hits h JOIN ${s}.jobs j ON j.id = h.job_id
        WHERE j.state = 'held'
        ORDER BY j.id
        FOR UPDATE OF j
      ), released AS (
        UPDATE ${s}.jobs j SET
          deps_remaining = greatest(j.deps_remaining - h.n, 0),
          state = CASE WHEN h.failed_step IS NOT NULL THEN 'cancelled'
            WHEN j.deps_remaining - h.n <= 0 THEN ${sql.raw(initialStateSql('j.scheduled_at', null))}
            ELSE 'held' END,
          cancelled_at = CASE WHEN h.failed_step IS NOT NULL THEN now() ELSE j.cancelled_at END,
          errors = CASE WHEN h.failed_step IS NULL THEN j.errors ELSE array_append(j.errors, jsonb_build_object(
            'attempt', j.attempt, 'at', now(),
            'error', 'cancelled: workflow dep "' || h.failed_step || '" (job ' || h.failed_id || ') was ' ||
              h.failed_state || '; set ' || ${sql.raw(ignoreOption('h.failed_state'))} || ' on the step to run it anyway')) END
        FROM locked h
        WHERE j.id = h.id AND j.state = 'held'
        RETURNING ${transitionColumns('j', `'held'`, 'j.attempt')}
      ), ${wakeAvailable(ctx.schema, 'released')}
      SELECT * FROM released, woken`,
    tx,
  );
  return rows.filter((row) => row.state === 'cancelled');
}

/** Steps waiting for deps that a retry moved out of a final state wait for them again. */
async function waitAgain(ctx: EngineContext, tx: Executor, deps: readonly string[]): Promise<void> {
  const s = sql.raw(ctx.schema);
  await ctx.database.query(
    sql`
      WITH waits AS MATERIALIZED (
        SELECT e.job_id, count(*)::int AS n FROM ${s}.workflow_deps e
        WHERE e.dep_id = ANY(${list(deps, 'bigint')}) GROUP BY e.job_id
      ), locked AS MATERIALIZED (
        SELECT j.id, w.n FROM waits w JOIN ${s}.jobs j ON j.id = w.job_id
        WHERE j.state = 'held' ORDER BY j.id FOR UPDATE OF j
      )
      UPDATE ${s}.jobs j SET deps_remaining = j.deps_remaining + l.n
      FROM locked l WHERE j.id = l.id`,
    tx,
  );
}

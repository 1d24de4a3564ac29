import { sql } from 'drizzle-orm';
import type { EngineContext } from './context.js';
import { reportTransitions } from './report.js';
import { type JobTransition, transitionColumns } from './transitions.js';

/**
 * The guard every claim adds: a job whose deadline has passed is not started, on any node, even
 * before the leader has ended it. A job claimed before its deadline runs on past it.
 */
export const beforeDeadline = (alias: string) =>
  sql.raw(`(${alias}.deadline_at IS NULL OR ${alias}.deadline_at > now())`);

/**
 * Ends up to `limit` jobs whose deadline passed before they started (waiting in any state but
 * `executing`): cancelled or discarded as each asked, with the reason in its errors. Workflows
 * and batches hear of it in the same transaction, as of any cancel. Rows a claim holds are
 * skipped: the claim saw them before their deadline. Returns how many jobs it ended.
 */
export async function expireDeadlines(ctx: EngineContext, limit = 1000): Promise<number> {
  const s = sql.raw(ctx.schema);
  const ended = await ctx.database.transaction(async (tx) => {
    const transitions = await ctx.database.query<JobTransition>(
      sql`
        WITH expired AS MATERIALIZED (
          SELECT id, state, attempt FROM ${s}.jobs
          WHERE deadline_at <= now() AND state IN ('available', 'scheduled', 'retryable', 'held')
          ORDER BY deadline_at
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED
        )
        UPDATE ${s}.jobs j SET
          state = CASE WHEN j.deadline_action = 'discard' THEN 'discarded' ELSE 'cancelled' END,
          cancelled_at = CASE WHEN j.deadline_action = 'discard' THEN j.cancelled_at ELSE now() END,
          discarded_at = CASE WHEN j.deadline_action = 'discard' THEN now() ELSE j.discarded_at END,
          errors = array_append(j.errors, jsonb_build_object(
            'attempt', j.attempt, 'at', now(),
            'error', 'deadline: not started by ' || (to_json(j.deadline_at) #>> '{}') || ', so ' ||
              CASE WHEN j.deadline_action = 'discard' THEN 'discarded' ELSE 'cancelled' END))
        FROM expired WHERE j.id = expired.id
        RETURNING ${transitionColumns('j', 'expired.state', 'expired.attempt')}`,
      tx,
    );
    await reportTransitions(ctx, tx, transitions);
    return transitions;
  });
  return ended.length;
}

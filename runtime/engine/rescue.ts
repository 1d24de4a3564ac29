import { sql } from 'drizzle-orm';
import type { EngineContext } from './context.js';
import { reportTransitions } from './report.js';
import { transactionDeadline } from './transaction-deadline.js';
import { type JobTransition, transitionColumns } from './transitions.js';
import { wakeAvailable } from './wake.js';

/**
 * Rescues the executing jobs of nodes that stopped heartbeating, or that restarted under the same
 * name since the attempt began: back to available, or discarded when no attempt is left. Each
 * rescued job records why, and keeps its place in its queue (its scheduled_at): it was due
 * before the jobs inserted since, and runs before them. Returns how many were rescued.
 */
export async function rescueOrphans(
  ctx: EngineContext,
  deadAfterMs: number,
  only?: { node: string },
): Promise<number> {
  const { database, schema } = ctx;
  const s = sql.raw(schema);
  const ofNode = only ? sql`AND j.attempted_by[cardinality(j.attempted_by)] = ${only.node}` : sql``;
  const rescued = await database.transaction(async (tx) => {
    await database.query(transactionDeadline(database.statementDeadline), tx);
    const transitions = await database.query<JobTransition>(
      sql`
        WITH orphaned AS MATERIALIZED (
          SELECT j.id FROM ${s}.jobs j
          WHERE j.state = 'executing' ${ofNode} AND NOT EXISTS (
            SELECT 1 FROM ${s}.nodes n
            WHERE n.name = j.attempted_by[cardinality(j.attempted_by)]
              AND n.heartbeat_at > now() - ${deadAfterMs} * interval '1 millisecond'
              AND n.started_at <= j.attempted_at
          )
          ORDER BY j.id
          FOR UPDATE OF j SKIP LOCKED
        ), rescued AS (
          UPDATE ${s}.jobs j SET
            state = CASE WHEN j.attempt >= j.max_attempts THEN 'discarded' ELSE 'available' END,
            discarded_at = CASE WHEN j.attempt >= j.max_attempts THEN now() ELSE j.discarded_at END,
            errors = array_append(j.errors, jsonb_build_object(
              'attempt', j.attempt, 'at', now(),
              'error', 'rescued: node ' || coalesce(j.attempted_by[cardinality(j.attempted_by)], '?') || ' stopped heartbeating or restarted'))
          WHERE j.id = ANY(ARRAY(SELECT id FROM orphaned))
          RETURNING ${transitionColumns('j', `'executing'`, 'j.attempt')}
        ), ${wakeAvailable(schema, 'rescued')}
        SELECT * FROM rescued, woken`,
      tx,
    );
    await reportTransitions(ctx, tx, transitions);
    return transitions;
  });
  if (only) return rescued.length;
  await database.query(sql`
    DELETE FROM ${s}.nodes WHERE heartbeat_at < now() - ${deadAfterMs * 2} * interval '1 millisecond'`);
  return rescued.length;
}

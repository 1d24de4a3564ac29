import { sql } from 'drizzle-orm';
import { list } from '../database/wire.js';
import type { EngineContext } from './context.js';

/** Which waiting jobs one run of priority aging raises. */
export interface AgingScope {
  /** Seconds a job must have been available (since it became due) before it is raised. */
  readonly afterSeconds: number;
  /** The priority it is raised to at most (0 is the first). */
  readonly floor: number;
  /** Jobs raised per run at most, the longest waiting first. */
  readonly limit: number;
  /** Only these queues; null: every queue. */
  readonly queues: readonly string[] | null;
}

/**
 * Raises by one step (lowers the number of) the priority of available jobs that have waited more
 * than `afterSeconds` since they became due, down to `floor`, the longest waiting first. Rows a
 * claim holds are skipped: a job being claimed needs no raise. Returns how many were raised.
 */
export async function agePriorities({ database, schema }: EngineContext, scope: AgingScope): Promise<number> {
  const s = sql.raw(schema);
  const rows = await database.query<{ raised: number }>(sql`
    WITH waiting AS MATERIALIZED (
      SELECT id FROM ${s}.jobs
      WHERE state = 'available' AND priority > ${scope.floor}
        AND scheduled_at < now() - ${scope.afterSeconds} * interval '1 second'
        AND ${scope.queues ? sql`queue = ANY(${list(scope.queues, 'text')})` : sql`true`}
      ORDER BY scheduled_at, id
      LIMIT ${scope.limit}
      FOR UPDATE SKIP LOCKED
    ), raised AS (
      UPDATE ${s}.jobs j SET priority = j.priority - 1
      FROM waiting w WHERE j.id = w.id AND j.state = 'available' AND j.priority > ${scope.floor}
      RETURNING 1
    )
    SELECT count(*)::int AS raised FROM raised`);
  return rows[0]?.raised ?? 0;
}

import { sql } from 'drizzle-orm';
import type { EngineContext } from './context.js';
import { wakeAvailable } from './wake.js';

/** Makes due scheduled and retryable jobs available, and wakes the producers of their queues. */
export async function stageDueJobs({ database, schema }: EngineContext, limit = 5000): Promise<number> {
  const s = sql.raw(schema);
  const rows = await database.query<{ staged: number }>(sql`
    WITH due AS MATERIALIZED (
      SELECT id FROM ${s}.jobs
      WHERE state IN ('scheduled', 'retryable') AND scheduled_at <= now()
      ORDER BY scheduled_at LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ), staged AS (
      UPDATE ${s}.jobs SET state = 'available' WHERE id = ANY(ARRAY(SELECT id FROM due)) RETURNING queue, state
    ), ${wakeAvailable(schema, 'staged')}
    SELECT (SELECT count(*) FROM staged)::int AS staged, woken FROM woken`);
  return rows[0]?.staged ?? 0;
}

/**
 * Makes scheduled and retryable jobs of a queue (or of every queue) available now, whatever
 * their time, except `keep`: what `drainJobs({ withScheduled: true })` runs.
 */
export async function stageAllJobs(
  { database, schema }: EngineContext,
  queue: string | undefined,
  keep: readonly string[],
): Promise<void> {
  await database.query(sql`
    UPDATE ${sql.raw(schema)}.jobs SET state = 'available', scheduled_at = now()
    WHERE state IN ('scheduled', 'retryable')
      AND ${queue === undefined ? sql`true` : sql`queue = ${queue}`}
      AND NOT (id = ANY(${sql.param([...keep])}::bigint[]))`);
}

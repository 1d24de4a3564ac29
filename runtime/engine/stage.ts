import { sql } from 'drizzle-orm';
import { list } from '../database/wire.js';
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

/** Which jobs `stageNow` makes available: those of a queue, a workflow or a batch, or every job. */
export interface StageScope {
  readonly queue?: string;
  readonly workflowId?: string;
  readonly batchId?: string;
}

/**
 * Makes the scheduled and retryable jobs of a scope available now, whatever their time, except
 * `keep`: what the testing helpers run when they run scheduled jobs too.
 */
export async function stageNow(
  { database, schema }: EngineContext,
  scope: StageScope,
  keep: readonly string[],
) {
  await database.query(sql`
    UPDATE ${sql.raw(schema)}.jobs SET state = 'available', scheduled_at = now()
    WHERE state IN ('scheduled', 'retryable')
      AND ${scope.queue === undefined ? sql`true` : sql`queue = ${scope.queue}`}
      AND ${scope.workflowId === undefined ? sql`true` : sql`workflow_id = ${scope.workflowId}::uuid`}
      AND ${scope.batchId === undefined ? sql`true` : sql`batch_id = ${scope.batchId}::uuid`}
      AND NOT (id = ANY(${list(keep, 'bigint')}))`);
}

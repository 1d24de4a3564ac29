import { sql } from 'drizzle-orm';
import type { EngineContext } from './context.js';
import { finalStateList } from './state-sql.js';

/**
 * Deletes finished jobs older than `maxAgeSeconds`, at most `limit` per run, with the workflow
 * edges of the pruned steps; then the workflow and batch rows that no job refers to any more.
 * A finished job was reported when it finished, so pruning reports nothing.
 */
export async function pruneJobs({ database, schema }: EngineContext, maxAgeSeconds: number, limit: number) {
  const s = sql.raw(schema);
  const age = sql`now() - ${maxAgeSeconds} * interval '1 second'`;
  const rows = await database.query<{ pruned: number }>(sql`
    WITH old AS MATERIALIZED (
      SELECT id FROM ${s}.jobs
      WHERE state IN ${finalStateList} AND coalesce(completed_at, cancelled_at, discarded_at) < ${age}
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ), pruned AS (
      DELETE FROM ${s}.jobs WHERE id = ANY(ARRAY(SELECT id FROM old)) RETURNING id, workflow_id
    ), edges AS (
      DELETE FROM ${s}.workflow_deps e USING pruned WHERE pruned.workflow_id IS NOT NULL AND e.job_id = pruned.id
    )
    SELECT count(*)::int AS pruned FROM pruned`);
  await database.query(sql`
    DELETE FROM ${s}.workflows w WHERE w.inserted_at < ${age}
      AND NOT EXISTS (SELECT 1 FROM ${s}.jobs j WHERE j.workflow_id = w.id)`);
  await database.query(sql`
    DELETE FROM ${s}.batches b WHERE b.inserted_at < ${age}
      AND NOT EXISTS (SELECT 1 FROM ${s}.jobs j WHERE j.batch_id = b.id)`);
  return rows[0]?.pruned ?? 0;
}

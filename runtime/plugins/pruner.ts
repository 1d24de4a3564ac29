import { sql } from 'drizzle-orm';
import type { Database } from '../database.js';

/** Deletes finished jobs older than `maxAgeSeconds`, at most `limit` per run. */
export async function pruneJobs(database: Database, schema: string, maxAgeSeconds: number, limit: number) {
  const s = sql.raw(schema);
  const rows = await database.query<{ pruned: number }>(sql`
    WITH old AS MATERIALIZED (
      SELECT id FROM ${s}.jobs
      WHERE state IN ('completed', 'cancelled', 'discarded')
        AND coalesce(completed_at, cancelled_at, discarded_at) < now() - ${maxAgeSeconds} * interval '1 second'
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ), pruned AS (DELETE FROM ${s}.jobs WHERE id = ANY(ARRAY(SELECT id FROM old)) RETURNING 1)
    SELECT count(*)::int AS pruned FROM pruned`);
  return rows[0]?.pruned ?? 0;
}

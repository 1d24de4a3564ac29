import { sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { type JobSelection, whereSelection } from './job-queries.js';

/**
 * Cancels the selected jobs that have not finished. Returns the ids that were executing, so
 * that the nodes running them can abort them.
 */
export async function cancelJobs(database: Database, schema: string, selection: JobSelection) {
  const s = sql.raw(schema);
  const rows = await database.query<{ id: string; previous: string }>(sql`
    WITH target AS MATERIALIZED (
      SELECT id, state FROM ${s}.jobs
      WHERE ${whereSelection(selection)} AND state NOT IN ('completed', 'discarded', 'cancelled')
      FOR UPDATE
    )
    UPDATE ${s}.jobs j SET state = 'cancelled', cancelled_at = now()
    FROM target WHERE j.id = target.id
    RETURNING j.id, target.state AS previous`);
  return {
    count: rows.length,
    executing: rows.filter((row) => row.previous === 'executing').map((row) => String(row.id)),
  };
}

/**
 * Makes the selected finished, retryable or scheduled jobs available now, granting one more
 * attempt where none is left. Executing and available jobs are left alone, and so is a unique
 * job whose key another job holds now: running it again would make it a duplicate.
 */
export async function retryJobs(
  database: Database,
  schema: string,
  selection: JobSelection,
): Promise<number> {
  const s = sql.raw(schema);
  const rows = await database.query<{ retried: number }>(sql`
    WITH retried AS (
      UPDATE ${s}.jobs SET state = 'available', scheduled_at = now(),
        max_attempts = greatest(max_attempts, attempt + 1),
        completed_at = NULL, cancelled_at = NULL, discarded_at = NULL
      WHERE ${whereSelection(selection)}
        AND state IN ('completed', 'discarded', 'cancelled', 'retryable', 'scheduled')
        AND (unique_key IS NULL OR NOT EXISTS (
          SELECT 1 FROM ${s}.jobs holder WHERE holder.unique_active = jobs.unique_key AND holder.id <> jobs.id))
      RETURNING queue
    ), woken AS (
      SELECT pg_notify(${`${schema}_insert`}, queue) FROM (SELECT DISTINCT queue FROM retried) q
    )
    SELECT (SELECT count(*) FROM retried)::int AS retried, (SELECT count(*) FROM woken)::int AS woken`);
  return rows[0]?.retried ?? 0;
}

/** Deletes the selected jobs. Returns the ids that were executing, to abort them. */
export async function deleteJobs(database: Database, schema: string, selection: JobSelection) {
  const rows = await database.query<{ id: string; state: string }>(sql`
    DELETE FROM ${sql.raw(schema)}.jobs WHERE ${whereSelection(selection)} RETURNING id, state`);
  return {
    count: rows.length,
    executing: rows.filter((row) => row.state === 'executing').map((row) => String(row.id)),
  };
}

import { sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { type JobRow, jobColumns } from './job-row.js';

/**
 * Claims up to `limit` available jobs of a queue for this node in one statement. The CTE fences
 * the `FOR UPDATE SKIP LOCKED` subquery so the planner locks exactly the rows it will update, and
 * `= ANY(ARRAY(...))` makes it update them through the primary key: a join lets it hash the whole
 * table, completed history included.
 */
export async function claimJobs(
  database: Database,
  schema: string,
  queue: string,
  limit: number,
  node: string,
): Promise<JobRow[]> {
  const rows = await database.query<JobRow>(sql`
    WITH claimable AS MATERIALIZED (
      SELECT id FROM ${sql.raw(schema)}.jobs
      WHERE state = 'available' AND queue = ${queue}
      ORDER BY priority, scheduled_at, id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE ${sql.raw(schema)}.jobs j
    SET state = 'executing', attempt = j.attempt + 1, attempted_at = now(),
        attempted_by = array_append(j.attempted_by, ${node}::text)
    WHERE j.id = ANY(ARRAY(SELECT id FROM claimable))
    RETURNING ${sql.raw(prefixed('j', jobColumns))}`);
  return rows.sort(byRunOrder);
}

function byRunOrder(a: JobRow, b: JobRow): number {
  return (
    a.priority - b.priority ||
    new Date(a.scheduled_at).getTime() - new Date(b.scheduled_at).getTime() ||
    Number(BigInt(a.id) - BigInt(b.id))
  );
}

export function prefixed(alias: string, columns: string): string {
  return columns
    .split(', ')
    .map((column) => `${alias}.${column}`)
    .join(', ');
}

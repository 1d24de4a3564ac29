import { sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { type JobRow, jobColumns, toDate } from './job-row.js';

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
  return inRunOrder(rows);
}

/**
 * Orders claimed rows as the queue does (priority, due time, id). The update returns them in no
 * particular order; the keys are computed once per row, not once per comparison.
 */
function inRunOrder(rows: JobRow[]): JobRow[] {
  if (rows.length < 2) return rows;
  const keyed = rows.map((row) => ({ row, due: toDate(row.scheduled_at).getTime(), id: BigInt(row.id) }));
  keyed.sort(
    (a, b) => a.row.priority - b.row.priority || a.due - b.due || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return keyed.map((entry) => entry.row);
}

export function prefixed(alias: string, columns: string): string {
  return columns
    .split(', ')
    .map((column) => `${alias}.${column}`)
    .join(', ');
}

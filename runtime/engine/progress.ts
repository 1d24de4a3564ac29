import { sql } from 'drizzle-orm';
import type { EngineContext } from './context.js';

/**
 * Stores a running job's progress (JSON text), for the attempt that set it only: a late write
 * from an attempt that already ended (or was rescued) changes nothing. Returns whether it was stored.
 */
export async function setProgress(
  { database, schema }: EngineContext,
  id: string,
  attempt: number,
  progress: string,
): Promise<boolean> {
  const rows = await database.query<{ id: string }>(sql`
    UPDATE ${sql.raw(schema)}.jobs SET progress = ${progress}::jsonb
    WHERE id = ${id}::bigint AND attempt = ${attempt} AND state = 'executing'
    RETURNING id::text AS id`);
  return rows.length > 0;
}

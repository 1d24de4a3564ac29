import { sql } from 'drizzle-orm';
import type { EngineContext } from './context.js';

export interface StoredQueueState {
  readonly paused: boolean;
  readonly limit: number | null;
}

/** Pause and scale are stored, so a node that starts later picks them up. */
export async function readQueueStates({
  database,
  schema,
}: EngineContext): Promise<Map<string, StoredQueueState>> {
  const rows = await database.query<{ name: string; paused: boolean; limit: number | null }>(
    sql`SELECT name, paused, "limit" FROM ${sql.raw(schema)}.queues`,
  );
  return new Map(rows.map((row) => [row.name, { paused: row.paused, limit: row.limit }]));
}

export async function storeQueueState(
  { database, schema }: EngineContext,
  queue: string,
  change: { paused?: boolean; limit?: number },
): Promise<void> {
  await database.query(sql`
    INSERT INTO ${sql.raw(schema)}.queues AS q (name, paused, "limit")
    VALUES (${queue}, ${change.paused ?? false}, ${change.limit ?? null})
    ON CONFLICT (name) DO UPDATE SET
      paused = coalesce(${change.paused ?? null}::boolean, q.paused),
      "limit" = coalesce(${change.limit ?? null}::int, q."limit"),
      updated_at = now()`);
}

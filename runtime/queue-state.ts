import { sql } from 'drizzle-orm';
import type { Database } from './database.js';

export interface StoredQueueState {
  readonly paused: boolean;
  readonly limit: number | null;
}

/** Pause and scale are stored, so a node that starts later picks them up. */
export async function readQueueStates(
  database: Database,
  schema: string,
): Promise<Map<string, StoredQueueState>> {
  const rows = await database.query<{ name: string; paused: boolean; limit: number | null }>(
    sql`SELECT name, paused, "limit" FROM ${sql.raw(schema)}.queues`,
  );
  return new Map(rows.map((row) => [row.name, { paused: row.paused, limit: row.limit }]));
}

export async function storeQueueState(
  database: Database,
  schema: string,
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

/** Tells every node, this one included, about a queue or job change. */
export async function signal(database: Database, schema: string, message: Signal): Promise<void> {
  await database.query(sql`SELECT pg_notify(${`${schema}_signal`}, ${JSON.stringify(message)})`);
}

export type Signal =
  | { readonly action: 'pause' | 'resume'; readonly queue: string }
  | { readonly action: 'scale'; readonly queue: string; readonly limit: number }
  | { readonly action: 'abort'; readonly ids: readonly string[] };

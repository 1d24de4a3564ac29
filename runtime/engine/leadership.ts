import { sql } from 'drizzle-orm';
import type { EngineContext } from './context.js';

/**
 * Leadership for periodic work that should run on one node (lifeline, pruner): a row with an
 * expiry that the holder renews and anyone may take over once it has lapsed. Returns whether
 * `node` holds it now.
 */
export async function claimLeadership(
  { database, schema }: EngineContext,
  node: string,
  ttlMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  const rows = await database.query<{ node: string }>(
    sql`
    INSERT INTO ${sql.raw(schema)}.leaders AS l (name, node, expires_at)
    VALUES ('koban', ${node}, now() + ${ttlMs} * interval '1 millisecond')
    ON CONFLICT (name) DO UPDATE SET node = excluded.node, expires_at = excluded.expires_at
      WHERE l.expires_at < now() OR l.node = excluded.node
    RETURNING node`,
    undefined,
    signal ? { signal } : {},
  );
  return rows[0]?.node === node;
}

export async function resignLeadership({ database, schema }: EngineContext, node: string): Promise<void> {
  await database.query(sql`DELETE FROM ${sql.raw(schema)}.leaders WHERE name = 'koban' AND node = ${node}`);
}

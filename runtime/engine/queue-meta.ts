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

export type Signal =
  | { readonly action: 'pause' | 'resume'; readonly queue: string }
  | { readonly action: 'scale'; readonly queue: string; readonly limit: number }
  | { readonly action: 'abort'; readonly ids: readonly string[] };

/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; job ids are ASCII. */
const payloadLimit = 7900;

/**
 * Tells every node, this one included, about a queue or job change. An abort of many jobs goes
 * as several messages, each under the payload limit, in one statement.
 */
export async function signal({ database, schema }: EngineContext, message: Signal): Promise<void> {
  const payloads = message.action === 'abort' ? abortPayloads(message.ids) : [JSON.stringify(message)];
  if (payloads.length === 0) return;
  await database.query(
    sql`SELECT pg_notify(${`${schema}_signal`}, payload) FROM unnest(${sql.param(payloads)}::text[]) AS payload`,
  );
}

function abortPayloads(ids: readonly string[]): string[] {
  const payloads: string[] = [];
  let chunk: string[] = [];
  let size = 0;
  for (const id of ids) {
    if (size + id.length + 3 > payloadLimit - 30 && chunk.length > 0) {
      payloads.push(JSON.stringify({ action: 'abort', ids: chunk }));
      chunk = [];
      size = 0;
    }
    chunk.push(id);
    size += id.length + 3;
  }
  if (chunk.length > 0) payloads.push(JSON.stringify({ action: 'abort', ids: chunk }));
  return payloads;
}

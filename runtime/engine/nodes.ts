import { sql } from 'drizzle-orm';
import { epochMs, list } from '../database/wire.js';
import type { EngineContext } from './context.js';

/** What a node reports in its heartbeat about what it runs: read by the operator's view. */
export interface NodeReport {
  readonly queues: readonly { queue: string; limit: number; paused: boolean; running: number }[];
  readonly cron: readonly { name: string; expression: string; timezone: string | null; worker: string }[];
}

/** What a heartbeat found: when the process now holding the node's name started, by the database clock. */
export interface Beat {
  /** The node row's `started_at`, epoch ms: set by the first beat of whichever process last started under this name. */
  readonly startedAt: number;
  /** Whether the row was created by this beat (a first start, or a row the lifeline had forgotten). */
  readonly created: boolean;
}

/**
 * Records a node's heartbeat and the queues it runs. The first beat of a process restarts the
 * node's clock: jobs attempted under the same name before it belong to a dead process.
 */
export async function beat(
  { database, schema }: EngineContext,
  node: string,
  queues: readonly string[],
  first: boolean,
  report?: NodeReport,
  signal?: AbortSignal,
): Promise<Beat> {
  const [row] = await database.query<{ started_at: number; created: boolean }>(
    sql`
    INSERT INTO ${sql.raw(schema)}.nodes AS n (name, queues, report)
    VALUES (${node}, ${list(queues, 'text')}, ${JSON.stringify(report ?? {})}::jsonb)
    ON CONFLICT (name) DO UPDATE SET heartbeat_at = now(), queues = excluded.queues, report = excluded.report,
      started_at = CASE WHEN ${first}::boolean THEN now() ELSE n.started_at END
    RETURNING ${sql.raw(epochMs('n.started_at'))} AS started_at, (xmax = 0) AS created`,
    undefined,
    signal ? { signal } : {},
  );
  return { startedAt: Number(row!.started_at), created: row!.created === true };
}

export async function removeNode({ database, schema }: EngineContext, node: string): Promise<void> {
  await database.query(sql`DELETE FROM ${sql.raw(schema)}.nodes WHERE name = ${node}`);
}

/** Queues that some node whose last beat is newer than `staleAfterMs` runs. */
export async function liveQueues(
  { database, schema }: EngineContext,
  staleAfterMs: number,
): Promise<Set<string>> {
  const rows = await database.query<{ queue: string }>(sql`
    SELECT DISTINCT unnest(queues) AS queue FROM ${sql.raw(schema)}.nodes
    WHERE heartbeat_at > now() - ${staleAfterMs} * interval '1 millisecond'`);
  return new Set(rows.map((row) => row.queue));
}

import { sql } from 'drizzle-orm';
import type { EngineContext } from './context.js';
import type { FlowChange } from './flow.js';

/** Whether a queue was started or stopped at run time, on every node; null: as each node was started. */
export type QueueRun = 'started' | 'stopped';

export interface StoredQueueState {
  readonly paused: boolean;
  readonly limit: number | null;
  /** Cluster-wide limits changed at run time, over those the nodes were started with. */
  readonly flow: FlowChange | null;
  readonly run: QueueRun | null;
}

/** What a run-time change of a queue stores; what is not given stays. */
export interface QueueChange {
  readonly paused?: boolean;
  readonly limit?: number;
  readonly flow?: FlowChange;
  readonly run?: QueueRun;
}

interface QueueRow {
  name: string;
  paused: boolean;
  limit: number | null;
  flow: FlowChange | null;
  run: QueueRun | null;
}

const toState = (row: QueueRow): StoredQueueState => ({
  paused: row.paused,
  limit: row.limit,
  flow: row.flow,
  run: row.run,
});

/** Pause, scale, limits and run-time starts and stops are stored, so a node that starts later picks them up. */
export async function readQueueStates({
  database,
  schema,
}: EngineContext): Promise<Map<string, StoredQueueState>> {
  const rows = await database.query<QueueRow>(
    sql`SELECT name, paused, "limit", flow, run FROM ${sql.raw(schema)}.queues`,
  );
  return new Map(rows.map((row) => [row.name, toState(row)]));
}

/** Stores a change and returns the queue's state after it; limits merge with those stored before. */
export async function storeQueueState(
  { database, schema }: EngineContext,
  queue: string,
  change: QueueChange,
): Promise<StoredQueueState> {
  const flow = change.flow === undefined ? null : JSON.stringify(change.flow);
  const [row] = await database.query<QueueRow>(sql`
    INSERT INTO ${sql.raw(schema)}.queues AS q (name, paused, "limit", flow, run)
    VALUES (${queue}, ${change.paused ?? false}, ${change.limit ?? null}, ${flow}::jsonb, ${change.run ?? null})
    ON CONFLICT (name) DO UPDATE SET
      paused = coalesce(${change.paused ?? null}::boolean, q.paused),
      "limit" = coalesce(${change.limit ?? null}::int, q."limit"),
      flow = CASE WHEN ${flow}::jsonb IS NULL THEN q.flow ELSE coalesce(q.flow, '{}') || ${flow}::jsonb END,
      run = coalesce(${change.run ?? null}::text, q.run),
      updated_at = now()
    RETURNING name, paused, "limit", flow, run`);
  return toState(row!);
}

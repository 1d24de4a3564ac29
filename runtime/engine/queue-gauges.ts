import { sql } from 'drizzle-orm';
import type { EngineContext } from './context.js';

/** The jobs of one queue in one unfinished state, and how long the oldest available one has been due. */
export interface QueueGauge {
  readonly queue: string;
  readonly state: string;
  readonly count: number;
  /** Milliseconds since the oldest available job of the queue was due; null for other states. */
  readonly oldestAvailableMs: number | null;
}

/**
 * Counts the unfinished jobs per queue and state, cluster-wide, in one scan of `jobs` (which
 * holds only unfinished jobs and finished ones that still guard a unique key): the leader runs it
 * once per interval for the gauges, rather than every node.
 */
export function queueGauges({ database, schema }: EngineContext): Promise<QueueGauge[]> {
  return database.query<QueueGauge>(sql`
    SELECT queue, state, count(*)::int AS count,
      CASE WHEN state = 'available'
        THEN greatest(0, date_part('epoch', now() - min(scheduled_at)) * 1000) END AS "oldestAvailableMs"
    FROM ${sql.raw(schema)}.jobs
    WHERE state IN ('available', 'scheduled', 'executing', 'retryable', 'held')
    GROUP BY queue, state
    ORDER BY queue, state`);
}

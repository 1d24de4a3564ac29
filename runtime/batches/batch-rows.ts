import { sql } from 'drizzle-orm';
import type { JsonObject } from '../../sdk/job.js';
import { list } from '../database/wire.js';
import type { EngineContext } from '../engine/context.js';
import type { PlanWrite } from '../engine/insert.js';

/** A batch the plan's rows join: created, or extended when it exists. */
export interface PlannedBatch {
  readonly id: string;
  readonly name: string | null;
  /** The callback job to insert, as stored; null when no callback worker is known yet. */
  readonly callback: JsonObject | null;
  /** Bits of the callbacks the callback worker implements. */
  readonly callbacks: number;
}

/**
 * Creates the plan's batches, or adds to them, after the jobs went in: each counts the jobs the
 * insert actually added (a unique job that met an existing one is not added). The first insert
 * of a batch decides its callback. Batches are written in id order, so that concurrent inserts
 * into the same batches lock their rows in one order.
 */
export function batchRowsWrite(ctx: EngineContext, batches: readonly PlannedBatch[]): PlanWrite {
  return async (tx, jobs) => {
    if (batches.length === 0) return;
    const added = new Map<string, number>();
    for (const job of jobs) {
      if (job.batchId !== null && !job.conflict) added.set(job.batchId, (added.get(job.batchId) ?? 0) + 1);
    }
    const sorted = [...batches].sort((a, b) => a.id.localeCompare(b.id));
    await ctx.database.query(
      sql`
        INSERT INTO ${sql.raw(ctx.schema)}.batches AS b (id, name, callback, callbacks, total)
        SELECT t.id, t.name, t.callback::jsonb, t.callbacks, t.total
        FROM unnest(${list(
          sorted.map((batch) => batch.id),
          'uuid',
        )}, ${list(
          sorted.map((batch) => batch.name),
          'text',
        )},
          ${list(
            sorted.map((batch) => (batch.callback === null ? null : JSON.stringify(batch.callback))),
            'text',
          )},
          ${list(
            sorted.map((batch) => batch.callbacks),
            'smallint',
          )}, ${list(
            sorted.map((batch) => added.get(batch.id) ?? 0),
            'int',
          )})
          AS t(id, name, callback, callbacks, total)
        ON CONFLICT (id) DO UPDATE SET
          total = b.total + excluded.total,
          name = coalesce(b.name, excluded.name),
          callbacks = CASE WHEN b.callback IS NULL THEN excluded.callbacks ELSE b.callbacks END,
          callback = coalesce(b.callback, excluded.callback)`,
      tx,
    );
  };
}

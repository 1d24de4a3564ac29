import { sql } from 'drizzle-orm';
import { type BatchCallback, type BatchStatus, batchCallbacks } from '../../sdk/batch-context.js';
import type { EngineContext } from '../engine/context.js';
import { batchCounts } from './context.js';
import { callbackBit } from './counting.js';

/** The callbacks named by the bits of `batches.callbacks` or `fired`. */
export const callbacksOf = (bits: number): BatchCallback[] =>
  batchCallbacks.filter((callback) => bits & callbackBit(callback));

/** A batch's counts per state and which callbacks have fired; null for an unknown id. */
export async function batchStatus(ctx: EngineContext, id: string): Promise<BatchStatus | null> {
  const [batch] = await ctx.database.query<{
    name: string | null;
    total: number;
    finished: number;
    callbacks: number;
    fired: number;
  }>(sql`
    SELECT name, total, completed + discarded + cancelled AS finished, callbacks, fired
    FROM ${sql.raw(ctx.schema)}.batches WHERE id = ${id}::uuid`);
  if (!batch) return null;
  return {
    id,
    name: batch.name,
    total: batch.total,
    counts: await batchCounts(ctx, id),
    fired: callbacksOf(batch.fired),
    callbacks: callbacksOf(batch.callbacks),
    finished: batch.total > 0 && batch.finished >= batch.total,
  };
}

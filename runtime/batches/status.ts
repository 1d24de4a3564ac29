import { sql } from 'drizzle-orm';
import { type BatchCallback, type BatchStatus, batchCallbacks } from '../../sdk/batch-context.js';
import type { Database } from '../database/database.js';
import { callbackBit } from '../engine/batch-tracking.js';
import { batchCounts } from './job-batch.js';

const callbacksOf = (bits: number): BatchCallback[] =>
  batchCallbacks.filter((callback) => bits & callbackBit(callback));

/** A batch's counts per state and which callbacks have fired; null for an unknown id. */
export async function batchStatus(
  database: Database,
  schema: string,
  id: string,
): Promise<BatchStatus | null> {
  const [batch] = await database.query<{
    name: string | null;
    total: number;
    finished: number;
    callbacks: number;
    fired: number;
  }>(sql`
    SELECT name, total, completed + discarded + cancelled AS finished, callbacks, fired
    FROM ${sql.raw(schema)}.batches WHERE id = ${id}::uuid`);
  if (!batch) return null;
  return {
    id,
    name: batch.name,
    total: batch.total,
    counts: await batchCounts({ database, schema }, id),
    fired: callbacksOf(batch.fired),
    callbacks: callbacksOf(batch.callbacks),
    finished: batch.total > 0 && batch.finished >= batch.total,
  };
}

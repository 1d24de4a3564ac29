import { sql } from 'drizzle-orm';
import { KobanBatchError } from '../../sdk/errors.js';
import type { Executor } from '../database/executor.js';
import type { EngineContext } from '../engine/context.js';
import { type InsertedJob, type InsertPlan, insertPlan } from '../engine/insert.js';

/**
 * Adds jobs to a batch that is still running, in one transaction. The batch row is locked
 * first: an outcome acked at the same moment waits for the new total, so the callbacks wait for
 * the new jobs too. A batch whose jobs have all finished takes no more.
 */
export async function appendBatch(
  ctx: EngineContext,
  batchId: string,
  plan: InsertPlan,
  executor?: Executor,
): Promise<InsertedJob[]> {
  const run = async (tx: Executor) => {
    const [batch] = await ctx.database.query<{ total: number; finished: number }>(
      sql`
        SELECT total, completed + discarded + cancelled AS finished
        FROM ${sql.raw(ctx.schema)}.batches WHERE id = ${batchId}::uuid FOR UPDATE`,
      tx,
    );
    if (!batch) {
      throw new KobanBatchError(
        `appendBatch: no batch has the id ${batchId}; insert it first, or it was pruned`,
      );
    }
    if (batch.total > 0 && batch.finished >= batch.total) {
      throw new KobanBatchError(
        `appendBatch(${batchId}): all ${batch.total} jobs of the batch have finished and its callbacks have run; start a new batch`,
      );
    }
    return insertPlan(ctx, plan, tx);
  };
  return executor ? run(executor) : ctx.database.transaction(run);
}

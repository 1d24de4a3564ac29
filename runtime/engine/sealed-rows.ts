import { sql } from 'drizzle-orm';
import type { Executor } from '../database/executor.js';
import { bindingOfJob, jobBinding } from './args-binding.js';
import type { EngineContext } from './context.js';
import type { InsertedJob, InsertRow } from './insert-row.js';
import type { StoredArgs } from './records.js';

/**
 * Rows whose args are sealed for their job: when any row of an insert is, every row takes its id
 * from the sequence first (one statement for all), so the envelope can be bound to the id the
 * row is then inserted with. Ids taken for rows that end up not inserted (a unique conflict, a
 * rollback) are gaps, as any failed insert leaves.
 */
export async function sealRows(
  ctx: EngineContext,
  rows: readonly InsertRow[],
  executor: Executor | undefined,
): Promise<readonly InsertRow[]> {
  if (!rows.some((row) => row.seal !== undefined)) return rows;
  const ids = await ctx.database.query<{ id: string }>(
    sql`SELECT nextval(pg_get_serial_sequence(${`${ctx.schema}.jobs`}, 'id'))::text AS id
        FROM generate_series(1, ${rows.length}::int)`,
    executor,
  );
  return rows.map((row, index) => {
    const id = ids[index]!.id;
    return row.seal ? { ...row, id, args: row.seal(jobBinding(id)) } : { ...row, id };
  });
}

/** Whether a conflict of this row may replace the holder's args with its own sealed ones. */
export function replacesSealedArgs(row: InsertRow): boolean {
  return row.seal !== undefined && (row.uniqueReplace?.fields.some(({ field }) => field === 'args') ?? false);
}

/**
 * A conflicting insert that replaced the holder's args wrote an envelope sealed for the id the
 * new row would have had: sealed again for the holder, in the same transaction, which still
 * holds the holder's row lock from the conflict (no claim can take it in between). Only if the
 * holder's args are still the ones sent, so a holder whose state kept its args is left alone.
 */
export async function resealForHolder(
  ctx: EngineContext,
  row: InsertRow,
  holder: InsertedJob,
  executor: Executor,
): Promise<InsertedJob> {
  const args = row.seal!(bindingOfJob(holder));
  const updated = await ctx.database.query<{ id: string }>(
    sql`UPDATE ${sql.raw(ctx.schema)}.jobs SET args = ${JSON.stringify(args)}::jsonb
        WHERE id = ${holder.id}::bigint AND args = ${JSON.stringify(row.args)}::jsonb
        RETURNING id::text AS id`,
    executor,
  );
  return updated.length > 0 ? { ...holder, args: args as StoredArgs } : holder;
}

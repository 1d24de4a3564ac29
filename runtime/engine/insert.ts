import { sql } from 'drizzle-orm';
import type { Executor } from '../database/executor.js';
import type { EngineContext } from './context.js';
import {
  hasDeadline,
  hasIds,
  type InsertedColumns,
  type InsertedJob,
  type InsertRow,
  insertedColumns,
  insertedRecord,
  insertSource,
  isTrackedInsert,
  jobInsert,
} from './insert-row.js';
import { replacesSealedArgs, sealRows } from './sealed-rows.js';
import { insertUniqueRows, type UniqueRow } from './unique-insert.js';

export type { InsertedJob, InsertRow } from './insert-row.js';

/**
 * A write a feature adds to an insert, in its transaction: a workflow's row before its steps,
 * their edges and batch counts after them (given the inserted jobs, in the order of the rows).
 */
export type PlanWrite = (tx: Executor, jobs: readonly InsertedJob[]) => Promise<void>;

/** Everything one insert writes, atomically. */
export interface InsertPlan {
  readonly rows: readonly InsertRow[];
  /**
   * Asked first, in the insert's transaction: jobs it answers stand for the plan, which then
   * writes nothing (a unique workflow that exists already).
   */
  readonly existing?: (tx: Executor) => Promise<InsertedJob[] | null>;
  readonly before?: readonly PlanWrite[];
  readonly after?: readonly PlanWrite[];
}

/**
 * Inserts a plan: the features' writes before, the jobs (one statement for all non-unique rows,
 * unique rows through unique-insert.ts), the features' writes after. Results come back in the
 * order of `plan.rows`. A plan that takes more than one statement runs in a transaction (the
 * caller's, or its own), so it is written whole or not at all.
 */
export async function insertPlan(
  ctx: EngineContext,
  plan: InsertPlan,
  executor?: Executor,
): Promise<InsertedJob[]> {
  const hook = ctx.insertHook;
  if (hook && plan.rows.length > 0)
    return hook(plan.rows, (rows) => insertRows(ctx, { ...plan, rows }, executor));
  return insertRows(ctx, plan, executor);
}

function insertRows(
  ctx: EngineContext,
  plan: InsertPlan,
  executor: Executor | undefined,
): Promise<InsertedJob[]> {
  if (executor || isOneStatement(plan)) return writePlan(ctx, plan, executor);
  return ctx.database.transaction((tx) => writePlan(ctx, plan, tx));
}

/**
 * Plain rows alone take one statement, and so does one unique row (an expired holder costs a
 * second statement, but giving up an expired key is harmless on its own). Anything else may
 * take several.
 */
function isOneStatement(plan: InsertPlan): boolean {
  if (plan.existing || plan.before?.length || plan.after?.length) return false;
  if (plan.rows.some(replacesSealedArgs)) return false;
  const unique = plan.rows.filter((row) => row.uniqueKey !== null).length;
  return unique === 0 || plan.rows.length === 1;
}

async function writePlan(ctx: EngineContext, plan: InsertPlan, executor: Executor | undefined) {
  const existing = plan.existing ? await plan.existing(executor!) : null;
  if (existing) return existing;
  for (const write of plan.before ?? []) await write(executor!, []);
  const rows = await sealRows(ctx, plan.rows, executor);
  const results: InsertedJob[] = new Array(rows.length);
  const plain: number[] = [];
  const unique: number[] = [];
  for (let index = 0; index < rows.length; index++) {
    (rows[index]!.uniqueKey === null ? plain : unique).push(index);
  }
  if (plain.length > 0) {
    const plainRows = plain.map((index) => rows[index]!);
    const shape = {
      unique: false,
      tracked: isTrackedInsert(plainRows),
      deadline: hasDeadline(plainRows),
      ids: hasIds(plainRows),
    };
    const inserted = await ctx.database.query<InsertedColumns>(
      jobInsert(
        ctx.schema,
        shape,
        insertSource(plainRows, shape),
        sql`RETURNING ${sql.raw(insertedColumns('j'))}`,
      ),
      executor,
    );
    plain.forEach((rowIndex, position) => {
      results[rowIndex] = insertedRecord(rows[rowIndex]!, inserted[position]!);
    });
  }
  if (unique.length > 0) {
    const inserted = await insertUniqueRows(
      ctx,
      unique.map((index) => rows[index]! as UniqueRow),
      executor,
    );
    unique.forEach((rowIndex, position) => {
      results[rowIndex] = inserted[position]!;
    });
  }
  for (const write of plan.after ?? []) await write(executor!, results);
  return results;
}

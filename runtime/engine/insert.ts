import { type SQL, sql } from 'drizzle-orm';
import { KobanWorkflowError } from '../../sdk/errors.js';
import type { JsonObject } from '../../sdk/job.js';
import type { Executor } from '../database/database.js';
import type { EngineContext } from './context.js';
import {
  type InsertedColumns,
  type InsertedJob,
  type InsertRow,
  insertColumns,
  insertedColumns,
  insertedRecord,
} from './insert-row.js';
import { insertUniqueRows } from './unique-insert.js';

export type { InsertedJob, InsertRow } from './insert-row.js';

/** `rows[job]` waits for `dep`: another row of the plan (its index) or an existing job (its id). */
export interface PlannedEdge {
  readonly job: number;
  readonly dep: number | { readonly id: string };
  readonly depStep: string;
  /** Bits of dep outcomes that count as done (see workflow-release.ts). */
  readonly ignore: number;
  readonly waitingDelay: number;
  readonly waitingLimit: number;
}

/** A batch the plan's rows join: created, or extended when it exists. */
export interface PlannedBatch {
  readonly id: string;
  readonly name: string | null;
  /** The callback job to insert, as stored; null when no callback worker is known yet. */
  readonly callback: JsonObject | null;
  /** Bits of the callbacks the callback worker implements. */
  readonly callbacks: number;
}

/** Everything one insert writes, atomically. */
export interface InsertPlan {
  readonly rows: readonly InsertRow[];
  readonly workflows?: readonly { readonly id: string; readonly name: string | null }[];
  readonly edges?: readonly PlannedEdge[];
  readonly batches?: readonly PlannedBatch[];
}

/**
 * Inserts a plan: workflow rows, jobs (one statement for all non-unique rows, unique rows
 * through unique-insert.ts), the workflow edges between them, and the batch counts. Results
 * come back in the order of `plan.rows`. A plan that takes more than one statement runs in a
 * transaction (the caller's, or its own), so it is written whole or not at all.
 */
export async function insertPlan(
  ctx: EngineContext,
  plan: InsertPlan,
  executor?: Executor,
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
  if (plan.workflows?.length || plan.edges?.length || plan.batches?.length) return false;
  const unique = plan.rows.filter((row) => row.uniqueKey !== null).length;
  return unique === 0 || plan.rows.length === 1;
}

async function writePlan(ctx: EngineContext, plan: InsertPlan, executor: Executor | undefined) {
  const { database, schema } = ctx;
  if (plan.workflows?.length) await insertWorkflows(ctx, plan.workflows, executor);
  const { rows } = plan;
  const results: InsertedJob[] = new Array(rows.length);
  const plain: number[] = [];
  const unique: number[] = [];
  for (let index = 0; index < rows.length; index++) {
    (rows[index]!.uniqueKey === null ? plain : unique).push(index);
  }
  if (plain.length > 0) {
    const plainRows = plain.map((index) => rows[index]!);
    const inserted = await database.query<InsertedColumns>(bulkInsert(schema, plainRows), executor);
    plain.forEach((rowIndex, position) => {
      results[rowIndex] = insertedRecord(rows[rowIndex]!, inserted[position]!);
    });
  }
  if (unique.length > 0) {
    const inserted = await insertUniqueRows(
      ctx,
      unique.map((index) => rows[index]!) as Parameters<typeof insertUniqueRows>[1],
      executor,
    );
    unique.forEach((rowIndex, position) => {
      results[rowIndex] = inserted[position]!;
    });
  }
  if (plan.edges?.length) await insertEdges(ctx, plan.edges, results, executor);
  if (plan.batches?.length) await countBatchJobs(ctx, plan.batches, results, executor);
  return results;
}

function bulkInsert(schema: string, rows: readonly InsertRow[]): SQL {
  const { columns, values, unnest } = insertColumns(rows);
  return sql`
    INSERT INTO ${sql.raw(schema)}.jobs AS j (${columns})
    SELECT ${values} FROM ${unnest}
    RETURNING ${sql.raw(insertedColumns('j'))}`;
}

async function insertWorkflows(
  ctx: EngineContext,
  workflows: NonNullable<InsertPlan['workflows']>,
  executor: Executor | undefined,
) {
  const inserted = await ctx.database.query<{ id: string }>(
    sql`
      INSERT INTO ${sql.raw(ctx.schema)}.workflows (id, name)
      SELECT * FROM unnest(${sql.param(workflows.map((w) => w.id))}::uuid[], ${sql.param(workflows.map((w) => w.name))}::text[])
      ON CONFLICT (id) DO NOTHING
      RETURNING id`,
    executor,
  );
  if (inserted.length < workflows.length) {
    const taken = workflows.filter((w) => !inserted.some((row) => String(row.id) === w.id)).map((w) => w.id);
    throw new KobanWorkflowError(
      `workflow ${taken.join(', ')} already exists: add steps to a running workflow with koban.appendWorkflow(id, build)`,
    );
  }
}

async function insertEdges(
  ctx: EngineContext,
  edges: readonly PlannedEdge[],
  jobs: readonly InsertedJob[],
  executor: Executor | undefined,
) {
  const idOf = (ref: number | { readonly id: string }) => (typeof ref === 'number' ? jobs[ref]!.id : ref.id);
  const pick = <T>(value: (edge: PlannedEdge) => T) => sql.param(edges.map(value));
  await ctx.database.query(
    sql`
      INSERT INTO ${sql.raw(ctx.schema)}.workflow_deps (dep_id, job_id, dep_step, ignore, waiting_delay, waiting_limit)
      SELECT * FROM unnest(${pick((edge) => idOf(edge.dep))}::bigint[], ${pick((edge) => jobs[edge.job]!.id)}::bigint[],
        ${pick((edge) => edge.depStep)}::text[], ${pick((edge) => edge.ignore)}::smallint[],
        ${pick((edge) => edge.waitingDelay)}::int[], ${pick((edge) => edge.waitingLimit)}::int[])`,
    executor,
  );
}

/**
 * Creates the plan's batches, or adds to them: each counts the jobs the insert actually added
 * (a unique job that met an existing one is not added). The first insert of a batch decides
 * its callback.
 */
async function countBatchJobs(
  ctx: EngineContext,
  batches: readonly PlannedBatch[],
  jobs: readonly InsertedJob[],
  executor: Executor | undefined,
) {
  const added = new Map<string, number>();
  for (const job of jobs) {
    if (job.batchId !== null && !job.conflict) added.set(job.batchId, (added.get(job.batchId) ?? 0) + 1);
  }
  const sorted = [...batches].sort((a, b) => a.id.localeCompare(b.id));
  const pick = <T>(value: (batch: PlannedBatch) => T) => sql.param(sorted.map(value));
  await ctx.database.query(
    sql`
      INSERT INTO ${sql.raw(ctx.schema)}.batches AS b (id, name, callback, callbacks, total)
      SELECT t.id, t.name, t.callback::jsonb, t.callbacks, t.total
      FROM unnest(${pick((batch) => batch.id)}::uuid[], ${pick((batch) => batch.name)}::text[],
        ${pick((batch) => (batch.callback === null ? null : JSON.stringify(batch.callback)))}::text[],
        ${pick((batch) => batch.callbacks)}::smallint[], ${pick((batch) => added.get(batch.id) ?? 0)}::int[])
        AS t(id, name, callback, callbacks, total)
      ON CONFLICT (id) DO UPDATE SET
        total = b.total + excluded.total,
        name = coalesce(b.name, excluded.name),
        callbacks = CASE WHEN b.callback IS NULL THEN excluded.callbacks ELSE b.callbacks END,
        callback = coalesce(b.callback, excluded.callback)`,
    executor,
  );
}

import { type SQL, sql } from 'drizzle-orm';
import type { JobRecord } from '../sdk/job.js';
import type { Database, Executor } from './database.js';
import { type JobRow, jobColumns, toJobRecord } from './job-row.js';
import type { InsertRow } from './prepare-job.js';

/** An inserted job; `conflict` is true when a unique job already existed and was returned instead. */
export type InsertedJob<Args = unknown> = JobRecord<Args> & { readonly conflict: boolean };

/**
 * Inserts rows with one statement for all non-unique rows (arrays unnested server-side) and one
 * statement per unique row. Results come back in the order of `rows`.
 */
export async function insertRows(
  database: Database,
  schema: string,
  rows: readonly InsertRow[],
  executor?: Executor,
): Promise<InsertedJob[]> {
  const results: InsertedJob[] = new Array(rows.length);
  const plain: number[] = [];
  for (let index = 0; index < rows.length; index++) {
    if (rows[index]!.uniqueKey === null) plain.push(index);
  }
  if (plain.length > 0) {
    const inserted = await database.query<InsertedColumns>(
      bulkInsert(
        schema,
        plain.map((index) => rows[index]!),
      ),
      executor,
    );
    plain.forEach((rowIndex, position) => {
      results[rowIndex] = insertedRecord(rows[rowIndex]!, inserted[position]!);
    });
  }
  for (let index = 0; index < rows.length; index++) {
    if (results[index] === undefined)
      results[index] = await insertUnique(database, schema, rows[index]!, executor);
  }
  return results;
}

function bulkInsert(schema: string, rows: readonly InsertRow[]): SQL {
  const column = <T>(pick: (row: InsertRow) => T) => sql.param(rows.map(pick));
  return sql`
    INSERT INTO ${sql.raw(schema)}.jobs (state, worker, queue, args, meta, tags, max_attempts, priority, scheduled_at)
    SELECT CASE WHEN t.scheduled_at::timestamptz > now() THEN 'scheduled' ELSE 'available' END,
           t.worker, t.queue, t.args::jsonb, t.meta::jsonb, t.tags::text[], t.max_attempts, t.priority,
           coalesce(t.scheduled_at::timestamptz, now())
    FROM unnest(
      ${column((row) => row.worker)}::text[], ${column((row) => row.queue)}::text[],
      ${column((row) => JSON.stringify(row.args))}::text[], ${column((row) => JSON.stringify(row.meta))}::text[],
      ${column((row) => arrayLiteral(row.tags))}::text[], ${column((row) => row.maxAttempts)}::int[],
      ${column((row) => row.priority)}::smallint[], ${column((row) => row.scheduledAt?.toISOString() ?? null)}::text[]
    ) AS t(worker, queue, args, meta, tags, max_attempts, priority, scheduled_at)
    RETURNING id, state, inserted_at, scheduled_at`;
}

type InsertedColumns = Pick<JobRow, 'id' | 'state' | 'inserted_at' | 'scheduled_at'>;

/**
 * The record of a freshly inserted job, built from what was sent: only the columns the database
 * decides come back, which keeps bulk inserts from echoing every job's args.
 */
function insertedRecord(row: InsertRow, inserted: InsertedColumns): InsertedJob {
  const record = toJobRecord({
    ...inserted,
    queue: row.queue,
    worker: row.worker,
    args: row.args,
    meta: row.meta,
    tags: [...row.tags],
    errors: [],
    attempt: 0,
    max_attempts: row.maxAttempts,
    priority: row.priority,
    attempted_at: null,
    completed_at: null,
    cancelled_at: null,
    discarded_at: null,
    attempted_by: [],
  });
  return { ...record, conflict: false };
}
// Timestamps travel as ISO text: drizzle's postgres-js setup replaces the timestamptz serializer,
// which leaves postgres.js unable to serialize a timestamptz[] parameter.

/**
 * Inserts a unique row, or returns the job that holds its key. `DO UPDATE` (rather than
 * `DO NOTHING`) makes the conflicting row come back in the same statement, so a racing insert can
 * never report a conflict without a job to show for it.
 */
async function insertUnique(
  database: Database,
  schema: string,
  row: InsertRow,
  executor?: Executor,
): Promise<InsertedJob> {
  const [inserted] = await database.query<JobRow & { conflict: boolean }>(
    sql`
      INSERT INTO ${sql.raw(schema)}.jobs AS j
        (state, worker, queue, args, meta, tags, max_attempts, priority, scheduled_at, unique_key, unique_states)
      VALUES (
        CASE WHEN ${row.scheduledAt?.toISOString() ?? null}::timestamptz > now() THEN 'scheduled' ELSE 'available' END,
        ${row.worker}, ${row.queue}, ${JSON.stringify(row.args)}::jsonb, ${JSON.stringify(row.meta)}::jsonb,
        ${arrayLiteral(row.tags)}::text[], ${row.maxAttempts}, ${row.priority},
        coalesce(${row.scheduledAt?.toISOString() ?? null}::timestamptz, now()), ${row.uniqueKey}, ${row.uniqueStates}
      )
      ON CONFLICT (unique_active) WHERE unique_active IS NOT NULL
      DO UPDATE SET unique_key = j.unique_key
      RETURNING ${sql.raw(jobColumns)}, (xmax <> 0) AS conflict`,
    executor,
  );
  return { ...toJobRecord(inserted!), conflict: Boolean(inserted!.conflict) };
}

/** A PostgreSQL array literal, so that a list of text arrays can travel as one text[] parameter. */
export function arrayLiteral(values: readonly string[]): string {
  return `{${values.map((value) => `"${value.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

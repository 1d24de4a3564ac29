import { type SQL, sql } from 'drizzle-orm';
import type { JobRecord } from '../sdk/job.js';
import type { CarriesResult } from '../sdk/recorded.js';
import type { Database, Executor } from './database.js';
import { type JobRow, toDate } from './job-row.js';
import type { InsertRow } from './prepare-job.js';
import { insertUniqueRows, type UniqueRow } from './unique-insert.js';

/**
 * An inserted job; `conflict` is true when a unique job already existed and was returned instead.
 * It carries its worker's result type, so `koban.fetchRecorded(job)` is typed.
 */
export type InsertedJob<Args = unknown, Result = unknown> = JobRecord<Args> & {
  readonly conflict: boolean;
} & CarriesResult<Result>;

/**
 * Inserts rows with one statement for all non-unique rows (arrays unnested server-side); unique
 * rows go through runtime/unique-insert.ts. Results come back in the order of `rows`.
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
  if (plain.length < rows.length) {
    const unique = rows.flatMap((row, index) => (row.uniqueKey === null ? [] : [index]));
    const inserted = await insertUniqueRows(
      database,
      schema,
      unique.map((index) => rows[index] as UniqueRow),
      executor,
    );
    unique.forEach((rowIndex, position) => {
      results[rowIndex] = inserted[position]!;
    });
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
// Timestamps travel as ISO text: drizzle's postgres-js setup replaces the timestamptz serializer,
// which leaves postgres.js unable to serialize a timestamptz[] parameter.

export type InsertedColumns = Pick<JobRow, 'id' | 'state' | 'inserted_at' | 'scheduled_at'>;

/**
 * The record of a freshly inserted job, built from what was sent: only the columns the database
 * decides come back, which keeps bulk inserts from echoing every job's args.
 */
export function insertedRecord(row: InsertRow, inserted: InsertedColumns): InsertedJob {
  // Built field by field: spreading driver rows here cost more than the INSERT itself.
  return {
    id: String(inserted.id),
    state: inserted.state,
    queue: row.queue,
    worker: row.worker,
    args: row.args,
    meta: row.meta,
    tags: row.tags,
    errors: [],
    attempt: 0,
    maxAttempts: row.maxAttempts,
    priority: row.priority,
    insertedAt: toDate(inserted.inserted_at),
    scheduledAt: toDate(inserted.scheduled_at),
    attemptedAt: null,
    completedAt: null,
    cancelledAt: null,
    discardedAt: null,
    attemptedBy: [],
    conflict: false,
  };
}

/** A PostgreSQL array literal, so that a list of text arrays can travel as one text[] parameter. */
export function arrayLiteral(values: readonly string[]): string {
  return `{${values.map((value) => `"${value.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

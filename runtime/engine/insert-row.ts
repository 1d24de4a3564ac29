import { sql } from 'drizzle-orm';
import type { JobRecord, JsonObject } from '../../sdk/job.js';
import type { CarriesResult } from '../../sdk/recorded.js';
import type { ReplacePlan } from '../workers/unique.js';
import { type JobRow, toDate } from './job-row.js';
import { initialStateSql } from './state-sql.js';

/**
 * An inserted job; `conflict` is true when a unique job already existed and was returned instead.
 * It carries its worker's result type, so `koban.fetchRecorded(job)` is typed.
 */
export type InsertedJob<Args = unknown, Result = unknown> = JobRecord<Args> & {
  readonly conflict: boolean;
} & CarriesResult<Result>;

/** One job as it goes into the table. */
export interface InsertRow {
  readonly worker: string;
  readonly queue: string;
  readonly args: unknown;
  readonly meta: JsonObject;
  readonly tags: readonly string[];
  readonly maxAttempts: number;
  readonly priority: number;
  readonly scheduledAt: Date | null;
  readonly uniqueKey: string | null;
  readonly uniqueStates: number | null;
  /** Seconds after which a holder of the key gives it up to a new insert; null or absent: never. */
  readonly uniquePeriod?: number | null;
  /** What a conflicting insert overwrites on the holder. */
  readonly uniqueReplace?: ReplacePlan;
  readonly workflowId?: string | null;
  readonly workflowStep?: string | null;
  /** Deps the step waits for: a row with any starts `held`. */
  readonly depsRemaining?: number;
  readonly batchId?: string | null;
}

/** Whether any row needs the workflow and batch columns: plain inserts leave them out. */
function hasTrackedColumns(rows: readonly InsertRow[]): boolean {
  return rows.some((row) => row.workflowId != null || row.batchId != null);
}

/** The columns of an insert from `unnest(…) AS t(…)`, with their SQL values and types. */
export function insertColumns(rows: readonly InsertRow[], extra: readonly ColumnSource[] = []) {
  const tracked = hasTrackedColumns(rows);
  const sources: ColumnSource[] = [
    ['worker', 'text', (row) => row.worker],
    ['queue', 'text', (row) => row.queue],
    ['args', 'text', (row) => JSON.stringify(row.args)],
    ['meta', 'text', (row) => JSON.stringify(row.meta)],
    ['tags', 'text', (row) => arrayLiteral(row.tags)],
    ['max_attempts', 'int', (row) => row.maxAttempts],
    ['priority', 'smallint', (row) => row.priority],
    ['scheduled_at', 'text', (row) => row.scheduledAt?.toISOString() ?? null],
    ...extra,
    ...(tracked ? trackedSources : []),
  ];
  const names = sources.map(([name]) => name);
  const values = names.map((name) => columnValue(name));
  const state = initialStateSql('t.scheduled_at::timestamptz', tracked ? 't.deps_remaining > 0' : null);
  return {
    columns: sql.raw(`state, ${names.join(', ')}`),
    values: sql.raw(`${state}, ${values.join(', ')}`),
    unnest: sql`unnest(${sql.join(
      sources.map(([, type, pick]) => sql`${sql.param(rows.map(pick))}::${sql.raw(type)}[]`),
      sql`, `,
    )}) AS t(${sql.raw(names.join(', '))})`,
  };
}
// Timestamps travel as ISO text: drizzle's postgres-js setup replaces the timestamptz serializer,
// which leaves postgres.js unable to serialize a timestamptz[] parameter.

type ColumnSource = readonly [name: string, type: string, pick: (row: InsertRow) => unknown];

const trackedSources: readonly ColumnSource[] = [
  ['workflow_id', 'uuid', (row) => row.workflowId ?? null],
  ['workflow_step', 'text', (row) => row.workflowStep ?? null],
  ['deps_remaining', 'int', (row) => (row.depsRemaining ? row.depsRemaining : null)],
  ['batch_id', 'uuid', (row) => row.batchId ?? null],
];

function columnValue(name: string): string {
  switch (name) {
    case 'args':
    case 'meta':
      return `t.${name}::jsonb`;
    case 'tags':
      return 't.tags::text[]';
    case 'scheduled_at':
      return 'coalesce(t.scheduled_at::timestamptz, now())';
    default:
      return `t.${name}`;
  }
}

/** What the database decides for a new row, and returns from an insert. */
export type InsertedColumns = Pick<JobRow, 'id' | 'state' | 'insertedAt' | 'scheduledAt'>;

export const insertedFields: readonly (keyof InsertedColumns)[] = [
  'id',
  'state',
  'insertedAt',
  'scheduledAt',
];

export function insertedColumns(alias: string): string {
  return `${alias}.id, ${alias}.state, ${alias}.inserted_at AS "insertedAt", ${alias}.scheduled_at AS "scheduledAt"`;
}

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
    insertedAt: toDate(inserted.insertedAt),
    scheduledAt: toDate(inserted.scheduledAt),
    attemptedAt: null,
    completedAt: null,
    cancelledAt: null,
    discardedAt: null,
    attemptedBy: [],
    workflowId: row.workflowId ?? null,
    workflowStep: row.workflowStep ?? null,
    batchId: row.batchId ?? null,
    batchCallback: null,
    conflict: false,
  };
}

/** A PostgreSQL array literal, so that a list of text arrays can travel as one text[] parameter. */
export function arrayLiteral(values: readonly string[]): string {
  return `{${values.map((value) => `"${value.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

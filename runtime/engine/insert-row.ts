import { type SQL, sql } from 'drizzle-orm';
import type { JobRecord, JsonObject } from '../../sdk/job.js';
import type { CarriesResult } from '../../sdk/recorded.js';
import type { JobState } from '../../sdk/states.js';
import type { ReplaceField } from '../../sdk/worker-options.js';
import { arrayLiteral, epochMs, type ListType, list, toDate } from '../database/wire.js';
import type { ArgsBinding } from './args-binding.js';
import type { StoredArgs } from './records.js';
import { initialStateSql } from './state-sql.js';

/**
 * An inserted job, with the args the caller passed; `conflict` is true when a unique job already
 * existed and was returned instead. It carries its worker's result type, so
 * `koban.fetchRecorded(job)` is typed.
 */
export type InsertedJob<Args = unknown, Result = unknown> = JobRecord<Args> & {
  readonly conflict: boolean;
} & CarriesResult<Result>;

/** What a conflicting unique insert overwrites on the holder: fields, each for a bitmask of states. */
export interface ReplacePlan {
  readonly fields: readonly { readonly field: ReplaceField; readonly states: number }[];
  /** Groups rows with the same plan into one statement. */
  readonly signature: string;
}

/** One job as it goes into the table: every job row Koban writes is built from one of these. */
export interface InsertRow {
  readonly worker: string;
  readonly queue: string;
  /** The args column: encoded, or sealed for an encrypted worker. */
  readonly args: StoredArgs;
  /**
   * For an encrypted worker: seals the args for the job's id, which the insert takes from the
   * sequence first (the envelope is bound to its job); `args` is a placeholder until then.
   */
  readonly seal?: ((binding: ArgsBinding) => StoredArgs) | undefined;
  /** The job's id, when taken before the insert. */
  readonly id?: string | undefined;
  /** The args as the caller passed them: what the inserted job's record shows. */
  readonly given: unknown;
  readonly meta: JsonObject;
  readonly tags: readonly string[];
  readonly maxAttempts: number;
  readonly priority: number;
  readonly scheduledAt: Date | null;
  readonly uniqueKey: string | null;
  readonly uniqueStates: number | null;
  /** Seconds after which a holder of the key gives it up to a new insert; null or absent: never. */
  readonly uniquePeriod?: number | null;
  /** The holder's time the period counts from: its insert (default) or when it is due. */
  readonly uniqueTimestamp?: 'inserted_at' | 'scheduled_at';
  /** What a conflicting insert overwrites on the holder. */
  readonly uniqueReplace?: ReplacePlan;
  readonly workflowId?: string | null;
  readonly workflowStep?: string | null;
  /** Deps the step waits for: a row with any starts `held`. */
  readonly depsRemaining?: number;
  readonly batchId?: string | null;
  /** The time by which the job must have started, and what becomes of it when it has not. */
  readonly deadlineAt?: Date;
  readonly deadlineAction?: 'cancel' | 'discard';
}

/** A column of a job insert: its name, the type of its list, how to read it from a row. */
type ColumnSource = readonly [name: string, type: ListType, pick: (row: InsertRow) => unknown];

// Timestamps travel as ISO text, JSON as text, tag lists as array literals: see database/wire.ts.
const baseSources: readonly ColumnSource[] = [
  ['worker', 'text', (row) => row.worker],
  ['queue', 'text', (row) => row.queue],
  ['args', 'text', (row) => JSON.stringify(row.args)],
  ['meta', 'text', (row) => JSON.stringify(row.meta)],
  ['tags', 'text', (row) => arrayLiteral(row.tags)],
  ['max_attempts', 'int', (row) => row.maxAttempts],
  ['priority', 'smallint', (row) => row.priority],
  ['scheduled_at', 'text', (row) => row.scheduledAt?.toISOString() ?? null],
];

const uniqueSources: readonly ColumnSource[] = [
  ['unique_key', 'text', (row) => row.uniqueKey],
  ['unique_states', 'smallint', (row) => row.uniqueStates],
];

const trackedSources: readonly ColumnSource[] = [
  ['workflow_id', 'uuid', (row) => row.workflowId ?? null],
  ['workflow_step', 'text', (row) => row.workflowStep ?? null],
  ['deps_remaining', 'int', (row) => (row.depsRemaining ? row.depsRemaining : null)],
  ['batch_id', 'uuid', (row) => row.batchId ?? null],
];

const deadlineSources: readonly ColumnSource[] = [
  ['deadline_at', 'text', (row) => row.deadlineAt?.toISOString() ?? null],
  ['deadline_action', 'text', (row) => row.deadlineAction ?? null],
];

/** What a job insert writes besides the columns every job has. */
export interface InsertShape {
  /** The unique key and its states. */
  readonly unique: boolean;
  /** The workflow and batch columns, and a `held` state for rows with deps. */
  readonly tracked: boolean;
  /** Batch callback jobs name their callback (a column only they fill). */
  readonly callback?: boolean;
  /** Every row has its id already (encrypted args were sealed for it). */
  readonly ids?: boolean;
  /** The deadline columns, for rows with a deadline. */
  readonly deadline?: boolean;
}

/** The value expression of each column from the source relation `t`. */
function columnValue(name: string): string {
  switch (name) {
    case 'args':
    case 'meta':
      return `t.${name}::jsonb`;
    case 'tags':
      return 't.tags::text[]';
    case 'scheduled_at':
      return 'coalesce(t.scheduled_at::timestamptz, now())';
    case 'deadline_at':
      return 't.deadline_at::timestamptz';
    default:
      return `t.${name}`;
  }
}

const idSource: ColumnSource = ['id', 'bigint', (row) => row.id];

function namesOf(shape: InsertShape): string[] {
  const names = baseSources.map(([name]) => name);
  if (shape.ids) names.push('id');
  if (shape.unique) names.push(...uniqueSources.map(([name]) => name));
  if (shape.tracked) names.push(...trackedSources.map(([name]) => name));
  if (shape.callback) names.push('batch_callback');
  if (shape.deadline) names.push(...deadlineSources.map(([name]) => name));
  return names;
}

/**
 * The one writer of job rows: `INSERT INTO jobs (…) SELECT … FROM <source> t`. The source has a
 * column per name of the shape (see `insertSource`), as text, numbers, JSON text or array
 * literals; batch callbacks build theirs in SQL (runtime/batches/counting.ts). The state comes
 * from the database's clock: held while a step waits for deps, scheduled when due later, else
 * available.
 */
export function jobInsert(schema: string, shape: InsertShape, source: SQL, tail: SQL = sql``): SQL {
  const names = namesOf(shape);
  const state = initialStateSql('t.scheduled_at::timestamptz', shape.tracked ? 't.deps_remaining > 0' : null);
  return sql`
    INSERT INTO ${sql.raw(schema)}.jobs AS j (state, ${sql.raw(names.join(', '))})
    SELECT ${sql.raw(`${state}, ${names.map(columnValue).join(', ')}`)} FROM ${source}
    ${tail}`;
}

/** The source of `jobInsert` for rows sent from here: `unnest(<one list per column>) AS t(…)`. */
export function insertSource(rows: readonly InsertRow[], shape: InsertShape): SQL {
  const sources = [
    ...baseSources,
    ...(shape.ids ? [idSource] : []),
    ...(shape.unique ? uniqueSources : []),
    ...(shape.tracked ? trackedSources : []),
    ...(shape.deadline ? deadlineSources : []),
  ];
  // A column whose value every row shares (the worker, queue, meta, tags, attempts and priority
  // of a bulk insert, mostly) goes once, as a value, instead of once per row in a list.
  const constant: [string, SQL][] = [];
  const listed: [string, SQL][] = [];
  for (const [name, type, pick] of sources) {
    const values = rows.map(pick) as (string | number | null)[];
    const first = values[0];
    // The args stay a list: the list's length is the number of rows.
    if (name !== 'args' && rows.length > 1 && values.every((value) => value === first)) {
      constant.push([name, first === null ? sql`NULL::${sql.raw(type)}` : sql`${first}::${sql.raw(type)}`]);
    } else listed.push([name, list(values, type)]);
  }
  if (constant.length === 0) return unnestOf(listed, 't');
  const constants = sql.join(
    constant.map(([name, value]) => sql`${value} AS ${sql.raw(name)}`),
    sql`, `,
  );
  return sql`(SELECT ${constants}, u.* FROM ${unnestOf(listed, 'u')}) t`;
}

function unnestOf(columns: readonly [string, SQL][], alias: string): SQL {
  return sql`unnest(${sql.join(
    columns.map(([, values]) => values),
    sql`, `,
  )}) AS ${sql.raw(alias)}(${sql.raw(columns.map(([name]) => name).join(', '))})`;
}

/** Whether the rows carry their ids (all do, or none). */
export function hasIds(rows: readonly InsertRow[]): boolean {
  return rows.length > 0 && rows[0]!.id !== undefined;
}

/** Whether any row needs the workflow and batch columns: plain inserts leave them out. */
export function isTrackedInsert(rows: readonly InsertRow[]): boolean {
  return rows.some((row) => row.workflowId != null || row.batchId != null);
}

/** Whether any row has a deadline: rows without leave its columns out. */
export function hasDeadline(rows: readonly InsertRow[]): boolean {
  return rows.some((row) => row.deadlineAt !== undefined);
}

/** What the database decides for a new row, and returns from an insert. */
export interface InsertedColumns {
  readonly id: string;
  readonly state: JobState;
  readonly insertedAt: number;
  readonly scheduledAt: number;
}

export const insertedFields: readonly (keyof InsertedColumns)[] = [
  'id',
  'state',
  'insertedAt',
  'scheduledAt',
];

export function insertedColumns(alias: string): string {
  return (
    `${alias}.id::text AS id, ${alias}.state, ${epochMs(`${alias}.inserted_at`)} AS "insertedAt", ` +
    `${epochMs(`${alias}.scheduled_at`)} AS "scheduledAt"`
  );
}

/**
 * The record of a freshly inserted job, built from what was sent: only the columns the database
 * decides come back, which keeps bulk inserts from echoing every job's args. Its args are the
 * caller's.
 */
export function insertedRecord(row: InsertRow, inserted: InsertedColumns): InsertedJob {
  // Built field by field: spreading driver rows here cost more than the INSERT itself.
  return {
    id: inserted.id,
    state: inserted.state,
    queue: row.queue,
    worker: row.worker,
    args: row.given,
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
    progress: null,
    conflict: false,
  };
}

import { type SQL, sql } from 'drizzle-orm';
import type { BatchCallback } from '../../sdk/batch-context.js';
import type { JobError, JobProgress, JobRecord, JsonObject } from '../../sdk/job.js';
import type { JobState } from '../../sdk/states.js';
import { epochMs, toDate, toDateOrNull } from '../database/wire.js';

declare const storedBrand: unique symbol;

/**
 * The three views of a job's args, told apart by type:
 * - `Args`, the caller's typed value (what `process` sees and `insert` takes);
 * - `EncodedArgs`, that value after the worker's codec or JSON check: plain JSON;
 * - `StoredArgs`, the `args` column: the encoded args, or the envelope of an `@Encrypted` worker.
 * Only runtime/workers turns one into another.
 */
export type EncodedArgs = JsonObject & { readonly [storedBrand]?: 'encoded' };
export type StoredArgs = { readonly [storedBrand]: 'stored' };

/** A job as the engine hands it out: normalised (string id, Dates), args in stored form. */
export type StoredJob = JobRecord<StoredArgs>;

/** What the engine needs of a job to know who hears of its changes: its workflow and batch. */
export interface JobTracking {
  readonly workflowId: string | null;
  readonly batchId: string | null;
  readonly batchCallback: string | null;
}

/**
 * A job row as every driver returns it from `jobColumns`: id as text, times as epoch
 * milliseconds, arrays as JSON. Mapped into a StoredJob once, by `toStoredJob`.
 */
export interface JobWireRow {
  readonly id: string;
  readonly state: JobState;
  readonly queue: string;
  readonly worker: string;
  readonly args: unknown;
  readonly meta: JsonObject | null;
  readonly tags: string[] | null;
  readonly errors: JobError[] | null;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly priority: number;
  readonly insertedAt: number;
  readonly scheduledAt: number;
  readonly attemptedAt: number | null;
  readonly completedAt: number | null;
  readonly cancelledAt: number | null;
  readonly discardedAt: number | null;
  readonly attemptedBy: string[] | null;
  readonly workflowId: string | null;
  readonly workflowStep: string | null;
  readonly batchId: string | null;
  readonly batchCallback: string | null;
  readonly progress: JobProgress | null;
}

/** Each field of a job record and how it is selected from a jobs table aliased `a`. */
const jobFields: readonly (readonly [field: keyof JobWireRow, select: (a: string) => string])[] = [
  ['id', (a) => `${a}.id::text`],
  ['state', (a) => `${a}.state`],
  ['queue', (a) => `${a}.queue`],
  ['worker', (a) => `${a}.worker`],
  ['args', (a) => `${a}.args`],
  ['meta', (a) => `${a}.meta`],
  ['tags', (a) => `to_json(${a}.tags)`],
  ['errors', (a) => `CASE WHEN cardinality(${a}.errors) = 0 THEN NULL ELSE to_json(${a}.errors) END`],
  ['attempt', (a) => `${a}.attempt`],
  ['maxAttempts', (a) => `${a}.max_attempts`],
  ['priority', (a) => `${a}.priority`],
  ['insertedAt', (a) => epochMs(`${a}.inserted_at`)],
  ['scheduledAt', (a) => epochMs(`${a}.scheduled_at`)],
  ['attemptedAt', (a) => epochMs(`${a}.attempted_at`)],
  ['completedAt', (a) => epochMs(`${a}.completed_at`)],
  ['cancelledAt', (a) => epochMs(`${a}.cancelled_at`)],
  ['discardedAt', (a) => epochMs(`${a}.discarded_at`)],
  ['attemptedBy', (a) => `to_json(${a}.attempted_by)`],
  ['workflowId', (a) => `${a}.workflow_id`],
  ['workflowStep', (a) => `${a}.workflow_step`],
  ['batchId', (a) => `${a}.batch_id`],
  ['batchCallback', (a) => `${a}.batch_callback`],
  ['progress', (a) => `${a}.progress`],
];

/**
 * The select list of a job record from the jobs table aliased `alias`, in one fixed order; with
 * `wrap`, each field's expression goes through it (a unique insert returns some only for holders).
 */
export function jobColumnList(
  alias: string,
  wrap?: (expression: string, field: keyof JobWireRow) => string,
): string {
  return jobFields
    .map(([field, select]) => `${wrap ? wrap(select(alias), field) : select(alias)} AS "${field}"`)
    .join(', ');
}

const columnLists = new Map<string, SQL>();

/** `jobColumnList(alias)` as SQL, built once per alias. */
export function jobColumns(alias: string): SQL {
  let columns = columnLists.get(alias);
  if (columns === undefined) {
    columns = sql.raw(jobColumnList(alias));
    columnLists.set(alias, columns);
  }
  return columns;
}

/**
 * The one mapper from a row to a job record. It runs once per job read, claims included, so it
 * builds a plain literal: no getter, no closure per job.
 */
export function toStoredJob(row: JobWireRow): StoredJob {
  return {
    id: row.id,
    state: row.state,
    queue: row.queue,
    worker: row.worker,
    args: row.args as StoredArgs,
    meta: row.meta ?? {},
    tags: row.tags ?? [],
    errors: row.errors ?? [],
    attempt: row.attempt,
    maxAttempts: row.maxAttempts,
    priority: row.priority,
    insertedAt: toDate(row.insertedAt),
    scheduledAt: toDate(row.scheduledAt),
    attemptedAt: toDateOrNull(row.attemptedAt),
    completedAt: toDateOrNull(row.completedAt),
    cancelledAt: toDateOrNull(row.cancelledAt),
    discardedAt: toDateOrNull(row.discardedAt),
    attemptedBy: row.attemptedBy ?? [],
    workflowId: row.workflowId,
    workflowStep: row.workflowStep,
    batchId: row.batchId,
    batchCallback: row.batchCallback as BatchCallback | null,
    progress: row.progress,
  };
}

/** A record with its args in another view: the one way a record's args change type. */
export function withArgs<Args>(job: JobRecord<unknown>, args: Args): JobRecord<Args> {
  return { ...job, args };
}

/** What reading a recorded value needs of a job row. */
export interface StoredRecorded {
  readonly id: string;
  readonly worker: string;
  readonly state: JobState;
  /** The `recorded` column as base64, or null. */
  readonly recorded: string | null;
}

/** The columns of StoredRecorded, read from the jobs table aliased `alias`. */
export function recordedColumns(alias: string): SQL {
  return sql.raw(
    `${alias}.id::text AS id, ${alias}.worker, ${alias}.state, encode(${alias}.recorded, 'base64') AS recorded`,
  );
}

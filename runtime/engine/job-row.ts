import { getTableColumns, type SQL, sql } from 'drizzle-orm';
import type { BatchCallback, JobBatch } from '../../sdk/batch-context.js';
import type { Job, JobError, JobRecord } from '../../sdk/job.js';
import type { JobWorkflow } from '../../sdk/workflow-context.js';
import { kobanTables } from '../schema.js';

/** The Drizzle jobs table is the one definition of the row; column names are the same in every schema. */
const jobsTable = kobanTables('koban').jobs;
const columns = getTableColumns(jobsTable);
type Columns = typeof columns;
type Select = typeof jobsTable.$inferSelect;

/** Columns that are not part of a job as Koban hands it out: bookkeeping, and the recorded value. */
const internalFields = ['uniqueKey', 'uniqueStates', 'uniqueActive', 'recorded', 'depsRemaining'] as const;
type ReadField = Exclude<keyof Columns, (typeof internalFields)[number]>;

const readFields = (Object.keys(columns) as (keyof Columns)[]).filter(
  (field): field is ReadField => !(internalFields as readonly string[]).includes(field),
);

/** A value as the drivers return it: int8 as text (postgres.js) or bigint (PGlite), dates as Date or text. */
type Raw<T> = T extends bigint ? string | number | bigint : T extends Date ? Date | string : T;

/** A job row as read by Koban's statements: the table's columns under their field names. */
export type JobRow = Omit<{ [Field in ReadField]: Raw<Select[Field]> }, 'args' | 'errors'> & {
  /** Args as stored: JSON, or the envelope of an encrypted worker. */
  args: unknown;
  errors: (JobError | string)[] | null;
};

/** The select list of a job row, read from the table aliased `alias`: `j.max_attempts AS "maxAttempts", …`. */
export function jobRowColumns(alias: string): SQL {
  return sql.raw(mapJobColumns((column) => `${alias}.${column}`));
}

/** A select list of every field of a job row, each selected by `expression(column, field)`, in one fixed order. */
export function mapJobColumns(expression: (column: string, field: ReadField) => string): string {
  return readFields.map((field) => `${expression(columns[field].name, field)} AS "${field}"`).join(', ');
}

/** What an attempt adds to the stored job: its abort signal and, for tracked jobs, its contexts. */
export interface AttemptExtras {
  readonly abort: { readonly signal: AbortSignal };
  readonly workflow?: () => JobWorkflow;
  readonly batch?: () => JobBatch;
}

interface AttemptState {
  readonly extras: AttemptExtras;
  workflow?: JobWorkflow;
  batch?: JobBatch;
}

const attempts = new WeakMap<object, AttemptState>();
const stateOf = (job: object) => attempts.get(job)!;

/**
 * The prototype of a job handed to `process`: `signal`, `workflow` and `batch` are read through
 * it, and made only when read. They stay out of the job's own properties, so a job compares and
 * serialises as its stored fields.
 */
const attemptPrototype: object = Object.create(Object.prototype, {
  signal: {
    get(this: object) {
      return stateOf(this).extras.abort.signal;
    },
  },
  workflow: {
    get(this: object) {
      const state = stateOf(this);
      state.workflow ??= state.extras.workflow?.();
      return state.workflow;
    },
  },
  batch: {
    get(this: object) {
      const state = stateOf(this);
      state.batch ??= state.extras.batch?.();
      return state.batch;
    },
  },
});

/**
 * The one mapper from a row to a job. It runs once per claimed job on the hot path, so it builds
 * a plain literal: no getter, no closure per job. With `attempt`, the job is the one handed to
 * `process`: it also has `signal`, `workflow` and `batch`, through its prototype.
 */
export function toJob<Args>(row: JobRow, args: Args): JobRecord<Args>;
export function toJob<Args>(row: JobRow, args: Args, attempt: AttemptExtras): Job<Args>;
export function toJob<Args>(row: JobRow, args: Args, attempt?: AttemptExtras): JobRecord<Args> | Job<Args> {
  const job = {
    __proto__: attempt ? attemptPrototype : Object.prototype,
    id: String(row.id),
    state: row.state,
    queue: row.queue,
    worker: row.worker,
    args,
    meta: row.meta ?? {},
    tags: row.tags ?? [],
    errors: row.errors === null || row.errors.length === 0 ? [] : row.errors.map(parseError),
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
  };
  if (attempt) attempts.set(job, { extras: attempt });
  return job as unknown as JobRecord<Args>;
}

export function toDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}

function toDateOrNull(value: Date | string | null): Date | null {
  return value === null ? null : toDate(value);
}

function parseError(error: JobError | string): JobError {
  return typeof error === 'string' ? (JSON.parse(error) as JobError) : error;
}

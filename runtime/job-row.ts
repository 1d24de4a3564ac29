import type { Job, JobError, JobRecord, JobState, JsonObject } from '../sdk/job.js';

/** The columns Koban reads back for a job, in SQL. */
export const jobColumns =
  'id, state, queue, worker, args, meta, tags, errors, attempt, max_attempts, priority, inserted_at, ' +
  'scheduled_at, attempted_at, completed_at, cancelled_at, discarded_at, attempted_by';

export interface JobRow {
  id: string | number | bigint;
  state: JobState;
  queue: string;
  worker: string;
  args: unknown;
  meta: JsonObject | null;
  tags: string[] | null;
  errors: (JobError | string)[] | null;
  attempt: number;
  max_attempts: number;
  priority: number;
  inserted_at: Date | string;
  scheduled_at: Date | string;
  attempted_at: Date | string | null;
  completed_at: Date | string | null;
  cancelled_at: Date | string | null;
  discarded_at: Date | string | null;
  attempted_by: string[] | null;
}

/** Maps a raw row (postgres.js or PGlite) to the public job shape. */
export function toJobRecord<Args = JsonObject>(row: JobRow, args: Args = row.args as Args): JobRecord<Args> {
  return {
    id: String(row.id),
    state: row.state,
    queue: row.queue,
    worker: row.worker,
    args,
    meta: row.meta ?? {},
    tags: row.tags ?? [],
    errors: (row.errors ?? []).map((error) =>
      typeof error === 'string' ? (JSON.parse(error) as JobError) : error,
    ),
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    priority: row.priority,
    insertedAt: toDate(row.inserted_at),
    scheduledAt: toDate(row.scheduled_at),
    attemptedAt: toDateOrNull(row.attempted_at),
    completedAt: toDateOrNull(row.completed_at),
    cancelledAt: toDateOrNull(row.cancelled_at),
    discardedAt: toDateOrNull(row.discarded_at),
    attemptedBy: row.attempted_by ?? [],
  };
}

export function toDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}

function parseError(error: JobError | string): JobError {
  return typeof error === 'string' ? (JSON.parse(error) as JobError) : error;
}

function toDateOrNull(value: Date | string | null): Date | null {
  return value === null ? null : toDate(value);
}

/** The job handed to `process`: the record plus its signal, built in one object (the hot path). */
export function toJob(row: JobRow, args: unknown, abort: { readonly signal: AbortSignal }): Job<unknown> {
  // Dates are parsed when read: most workers never look at them.
  let insertedAt: Date | undefined;
  let scheduledAt: Date | undefined;
  let attemptedAt: Date | null | undefined;
  return {
    id: String(row.id),
    state: row.state,
    queue: row.queue,
    worker: row.worker,
    args,
    meta: row.meta ?? {},
    tags: row.tags ?? [],
    errors: row.errors === null || row.errors.length === 0 ? [] : row.errors.map(parseError),
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    priority: row.priority,
    get insertedAt() {
      insertedAt ??= toDate(row.inserted_at);
      return insertedAt;
    },
    get scheduledAt() {
      scheduledAt ??= toDate(row.scheduled_at);
      return scheduledAt;
    },
    get attemptedAt() {
      if (attemptedAt === undefined) attemptedAt = toDateOrNull(row.attempted_at);
      return attemptedAt;
    },
    completedAt: toDateOrNull(row.completed_at),
    cancelledAt: toDateOrNull(row.cancelled_at),
    discardedAt: toDateOrNull(row.discarded_at),
    attemptedBy: row.attempted_by ?? [],
    get signal() {
      return abort.signal;
    },
  };
}

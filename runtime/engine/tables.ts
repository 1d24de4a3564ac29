import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  customType,
  doublePrecision,
  integer,
  jsonb,
  pgSchema,
  primaryKey,
  smallint,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import type { JobError, JobProgress, JsonObject } from '../../sdk/job.js';
import type { JobState } from '../../sdk/states.js';
import { uniqueActiveExpression } from './migrations/v001.js';

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => 'bytea' });

/**
 * The Drizzle tables of one Koban schema, for custom queries in application code. The default
 * schema is `koban`; `kobanTables('other')` gives the tables of `Koban.start({ schema: 'other' })`.
 */
export function kobanTables(schemaName: string) {
  const schema = pgSchema(schemaName);
  /** The columns every job has, in `jobs` and in `job_history`. */
  const jobColumns = () => ({
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    state: text('state').$type<JobState>().notNull().default('available'),
    queue: text('queue').notNull().default('default'),
    worker: text('worker').notNull(),
    args: jsonb('args').$type<JsonObject>().notNull().default({}),
    meta: jsonb('meta').$type<JsonObject>().notNull().default({}),
    tags: text('tags').array().notNull().default(sql`'{}'`),
    errors: jsonb('errors').array().$type<JobError[]>().notNull().default(sql`'{}'`),
    attempt: integer('attempt').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(20),
    priority: smallint('priority').notNull().default(0),
    insertedAt: timestamptz('inserted_at').notNull().defaultNow(),
    scheduledAt: timestamptz('scheduled_at').notNull().defaultNow(),
    attemptedAt: timestamptz('attempted_at'),
    completedAt: timestamptz('completed_at'),
    cancelledAt: timestamptz('cancelled_at'),
    discardedAt: timestamptz('discarded_at'),
    attemptedBy: text('attempted_by').array().notNull().default(sql`'{}'`),
    uniqueKey: text('unique_key'),
    uniqueStates: smallint('unique_states'),
    /** A @Recorded job's value in Koban's stored format: read it with `koban.fetchRecorded`. */
    recorded: bytea('recorded'),
    /** The workflow this job is a step of, and the step's name in it. */
    workflowId: uuid('workflow_id'),
    workflowStep: text('workflow_step'),
    /** While `held`: how many deps have not finished yet. */
    depsRemaining: integer('deps_remaining'),
    /** The batch this job belongs to, or whose callback it runs. */
    batchId: uuid('batch_id'),
    /** For a batch callback job: which callback it runs (`completed`, `exhausted`, ...). */
    batchCallback: text('batch_callback'),
    /** What the job's last `job.progress(value)` stored, or null. */
    progress: jsonb('progress').$type<JobProgress>(),
  });
  /** Jobs that may still run, and finished ones whose unique key still guards. */
  const jobs = schema.table('jobs', {
    ...jobColumns(),
    uniqueActive: text('unique_active').generatedAlwaysAs(sql.raw(uniqueActiveExpression)),
    /** The time by which the job must have started, or null; a finished job keeps none. */
    deadlineAt: timestamptz('deadline_at'),
    /** What becomes of the job when its deadline passes before it starts. */
    deadlineAction: text('deadline_action').$type<'cancel' | 'discard'>(),
  });
  /**
   * Completed, discarded and cancelled jobs, partitioned by the day they finished; `id` is not
   * unique on its own here (a primary key of a partitioned table must hold its partition key).
   * Read both with the view `all_jobs`.
   */
  const jobHistory = schema.table('job_history', {
    ...jobColumns(),
    id: bigint('id', { mode: 'bigint' }).notNull(),
    finishedAt: timestamptz('finished_at').notNull(),
  });
  /**
   * Every job, wherever it is: the view over `jobs` and `job_history`. Query this one for
   * finished jobs; write through `jobs` (finished rows move to the history when they finish).
   */
  const allJobs = schema
    .view('all_jobs', { ...jobColumns(), id: bigint('id', { mode: 'bigint' }).notNull() })
    .existing();
  const workflows = schema.table('workflows', {
    id: uuid('id').primaryKey(),
    name: text('name'),
    insertedAt: timestamptz('inserted_at').notNull().defaultNow(),
    /** The workflow's shared context (`job.workflow.getContext()`), in stored form. */
    context: jsonb('context').$type<JsonObject>(),
    /** The workflow's manys and grafts by name: `{ resize: 'many' }`. */
    kinds: jsonb('kinds').$type<Record<string, 'many' | 'graft'>>(),
    /** The key of `workflow({ unique })`, or null. */
    uniqueKey: text('unique_key'),
    /** The steps `.returns(...)` named: their values are the workflow's result. */
    returns: text('returns').array(),
  });
  /**
   * One row per dependency of a workflow step: `jobId` waits for `depId`. The step's options
   * travel on each of its edges, where the release and the sweeper read them.
   */
  const workflowDeps = schema.table(
    'workflow_deps',
    {
      depId: bigint('dep_id', { mode: 'bigint' }).notNull(),
      jobId: bigint('job_id', { mode: 'bigint' }).notNull(),
      depStep: text('dep_step').notNull(),
      /** Bits of the dep outcomes that count as done: see runtime/engine/workflow-release.ts. */
      ignore: smallint('ignore').notNull().default(0),
      waitingDelay: integer('waiting_delay').notNull(),
      waitingLimit: integer('waiting_limit').notNull(),
    },
    (table) => [primaryKey({ columns: [table.depId, table.jobId] })],
  );
  const batches = schema.table('batches', {
    id: uuid('id').primaryKey(),
    name: text('name'),
    /** The callback job to insert, as stored (worker, queue, args, meta, tags, max_attempts, priority). */
    callback: jsonb('callback').$type<JsonObject>(),
    /** Bits of the callbacks the callback worker implements. */
    callbacks: smallint('callbacks').notNull().default(0),
    /** Bits of the callbacks inserted so far: each is inserted once. */
    fired: smallint('fired').notNull().default(0),
    /** The bits the last count update added to `fired`: the callbacks that update inserted. */
    lastFired: smallint('last_fired').notNull().default(0),
    total: integer('total').notNull().default(0),
    attempted: integer('attempted').notNull().default(0),
    completed: integer('completed').notNull().default(0),
    discarded: integer('discarded').notNull().default(0),
    cancelled: integer('cancelled').notNull().default(0),
    retryable: integer('retryable').notNull().default(0),
    insertedAt: timestamptz('inserted_at').notNull().defaultNow(),
  });
  const nodes = schema.table('nodes', {
    name: text('name').primaryKey(),
    queues: text('queues').array().notNull().default(sql`'{}'`),
    startedAt: timestamptz('started_at').notNull().defaultNow(),
    heartbeatAt: timestamptz('heartbeat_at').notNull().defaultNow(),
    /** What the node runs (queues with limits, cron entries), recorded with each heartbeat. */
    report: jsonb('report').notNull().default(sql`'{}'`),
  });
  const leaders = schema.table('leaders', {
    name: text('name').primaryKey(),
    node: text('node').notNull(),
    expiresAt: timestamptz('expires_at').notNull(),
  });
  const queues = schema.table('queues', {
    name: text('name').primaryKey(),
    paused: boolean('paused').notNull().default(false),
    limit: integer('limit'),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
    /** The queue's cluster-wide limits (global, partition, rate limit), as set at run time. */
    flow: jsonb('flow').$type<JsonObject>(),
    /** `started` or `stopped` at run time by startQueue/stopQueue; null when never changed. */
    run: text('run').$type<'started' | 'stopped'>(),
  });
  /**
   * The metrics history: per minute, queue, worker and node, the attempts that ended by outcome
   * and histograms of run and queue time (counts per bucket of `histogramBoundsMs`).
   */
  const jobMetrics = schema.table(
    'job_metrics',
    {
      minute: timestamptz('minute').notNull(),
      queue: text('queue').notNull(),
      worker: text('worker').notNull(),
      node: text('node').notNull(),
      completed: integer('completed').notNull().default(0),
      retried: integer('retried').notNull().default(0),
      discarded: integer('discarded').notNull().default(0),
      cancelled: integer('cancelled').notNull().default(0),
      snoozed: integer('snoozed').notNull().default(0),
      runMs: doublePrecision('run_ms').notNull().default(0),
      queueMs: doublePrecision('queue_ms').notNull().default(0),
      runHistogram: integer('run_histogram').array().notNull(),
      queueHistogram: integer('queue_histogram').array().notNull(),
    },
    (table) => [primaryKey({ columns: [table.minute, table.queue, table.worker, table.node] })],
  );
  const schemaVersions = schema.table('schema_versions', {
    version: integer('version').primaryKey(),
    appliedAt: timestamptz('applied_at').notNull().defaultNow(),
  });
  return {
    jobs,
    jobHistory,
    allJobs,
    jobMetrics,
    nodes,
    leaders,
    queues,
    schemaVersions,
    workflows,
    workflowDeps,
    batches,
  };
}

export type KobanTables = ReturnType<typeof kobanTables>;

/** The tables of the default `koban` schema. */
export const {
  jobs,
  jobHistory,
  allJobs,
  jobMetrics,
  nodes,
  leaders,
  queues,
  schemaVersions,
  workflows,
  workflowDeps,
  batches,
} = kobanTables('koban');

import { isDeepStrictEqual } from 'node:util';
import { sql } from 'drizzle-orm';
import type { Codec } from '../sdk/codec.js';
import type { Job, JobRecord, JobState, JsonObject } from '../sdk/job.js';
import { getWorkerDefinition } from '../sdk/registry.js';
import { isControlOutcome } from '../sdk/results.js';
import type { ArgsOf, ProcessOutcome, WorkerClass } from '../sdk/worker.js';
import { claimJobs } from './claim.js';
import { executeJob } from './executor.js';
import { type JobRow, jobColumns, toJobRecord } from './job-row.js';
import { type Koban, kobanInternals } from './koban.js';
import { readableArgs, roundTripArgs } from './stored-args.js';

/** A worker class, or a builder from `npx gen` (which carries its class and codec). */
export type WorkerRef<W extends WorkerClass = WorkerClass> =
  | W
  | { readonly worker: W; readonly codec?: Codec<ArgsOf<W>> };

export interface PerformOptions {
  meta?: JsonObject;
  attempt?: number;
  maxAttempts?: number;
  signal?: AbortSignal;
}

/**
 * Runs a worker's `process` once, in memory, as Koban would: args go through the worker's codec
 * (validation, Date and bigint decoding) and the outcome is what the job would have recorded.
 */
export async function performJob<W extends WorkerClass>(
  ref: WorkerRef<W>,
  args: ArgsOf<W>,
  options: PerformOptions = {},
): Promise<ProcessOutcome> {
  const { worker, codec } = resolve(ref);
  const definition = getWorkerDefinition(worker);
  const decoded = await roundTripArgs(definition, codec as Codec<unknown> | undefined, args);
  const now = new Date();
  const job: Job<unknown> = {
    id: '0',
    state: 'executing',
    queue: definition.queue,
    worker: definition.name,
    args: decoded,
    meta: options.meta ?? {},
    tags: definition.tags,
    errors: [],
    attempt: options.attempt ?? 1,
    maxAttempts: options.maxAttempts ?? definition.maxAttempts,
    priority: definition.priority,
    insertedAt: now,
    scheduledAt: now,
    attemptedAt: now,
    completedAt: null,
    cancelledAt: null,
    discardedAt: null,
    attemptedBy: ['test'],
    signal: options.signal ?? new AbortController().signal,
  };
  const instance = new worker();
  try {
    const result = await instance.process(job as Job<ArgsOf<W>>);
    if (!isControlOutcome(result)) return { kind: 'completed', result };
    if (result.kind === 'snooze') return { kind: 'snoozed', seconds: result.seconds };
    return { kind: result.kind === 'cancel' ? 'cancelled' : 'discarded', reason: result.reason };
  } catch (error) {
    return { kind: 'error', error, state: job.attempt >= job.maxAttempts ? 'discarded' : 'retryable' };
  }
}

export interface DrainOptions {
  /** Only this queue; default every queue. */
  queue?: string;
  /** Also run scheduled and retryable jobs now, whatever their time. Default false. */
  withScheduled?: boolean;
  /** Keep draining jobs that the drained jobs insert. Default true. */
  withRecursion?: boolean;
}

export type DrainResult = Record<'completed' | 'cancelled' | 'discarded' | 'retryable' | 'snoozed', number>;

/**
 * Runs the available jobs of a Koban instance inline, one at a time, until none is left, and
 * counts the outcomes. Use it with `Koban.start({ queues: {} })` so no producer competes.
 */
export async function drainJobs(koban: Koban, options: DrainOptions = {}): Promise<DrainResult> {
  const { database, config, catalog, events, acker, running, hooks } = koban[kobanInternals]();
  const counts: DrainResult = { completed: 0, cancelled: 0, discarded: 0, retryable: 0, snoozed: 0 };
  const s = sql.raw(config.schema);
  const queueFilter = options.queue === undefined ? sql`true` : sql`queue = ${options.queue}`;
  const snoozed = new Set<string>();
  for (;;) {
    if (options.withScheduled) {
      await database.query(sql`
        UPDATE ${s}.jobs SET state = 'available', scheduled_at = now()
        WHERE state IN ('scheduled', 'retryable') AND ${queueFilter}
          AND NOT (id = ANY(${sql.param([...snoozed])}::bigint[]))`);
    } else {
      await koban[kobanInternals]().services.stage();
    }
    const queues = await database.query<{ queue: string }>(
      sql`SELECT DISTINCT queue FROM ${s}.jobs WHERE state = 'available' AND ${queueFilter}`,
    );
    // A job that snoozes runs once per drain: snoozing again would keep the drain going forever.
    let progress = 0;
    for (const { queue } of queues) {
      const rows = await claimJobs(database, config.schema, queue, 100, config.node);
      for (const row of rows) {
        const ack = await executeJob(row, { catalog, events, logger: config.logger, hooks }, running);
        acker.add(ack);
        await acker.flush();
        const id = String(row.id);
        if (ack.state === 'scheduled' && snoozed.has(id)) continue;
        counts[ack.state === 'scheduled' ? 'snoozed' : ack.state]++;
        progress++;
        if (ack.state === 'scheduled') snoozed.add(id);
      }
    }
    if (progress === 0 || options.withRecursion === false) return counts;
  }
}

export interface EnqueuedFilter<W extends WorkerClass = WorkerClass> {
  worker?: WorkerRef<W> | string;
  queue?: string;
  /** Matches jobs whose args contain these keys with equal values. */
  args?: Partial<ArgsOf<W>> | JsonObject;
  meta?: JsonObject;
  /** Default: available and scheduled. */
  state?: JobState | readonly JobState[];
}

/** The enqueued jobs matching a filter, oldest first. */
export async function allEnqueued<W extends WorkerClass>(
  koban: Koban,
  filter: EnqueuedFilter<W> = {},
): Promise<JobRecord[]> {
  const { database, config, catalog } = koban[kobanInternals]();
  const states = filter.state === undefined ? ['available', 'scheduled'] : [filter.state].flat();
  const worker = filter.worker === undefined ? undefined : workerName(filter.worker);
  const rows = await database.query<JobRow>(sql`
    SELECT ${sql.raw(jobColumns)} FROM ${sql.raw(config.schema)}.jobs
    WHERE state = ANY(${sql.param(states)}::text[])
      ${worker === undefined ? sql`` : sql`AND worker = ${worker}`}
      ${filter.queue === undefined ? sql`` : sql`AND queue = ${filter.queue}`}
    ORDER BY id`);
  const encodedArgs = filter.args && encodePartial(filter);
  return rows
    .map((row) =>
      toJobRecord(row, readableArgs(catalog.get(row.worker), row.args, String(row.id)) as JsonObject),
    )
    .filter((job) => contains(job.args, encodedArgs) && contains(job.meta, filter.meta));
}

/** Fails, listing what is enqueued, unless a matching job is enqueued. */
export async function assertEnqueued<W extends WorkerClass>(
  koban: Koban,
  filter: EnqueuedFilter<W>,
): Promise<JobRecord> {
  const [job] = await allEnqueued(koban, filter);
  if (job) return job;
  const sameWorker = await allEnqueued(koban, { worker: filter.worker, state: filter.state });
  throw new Error(
    `expected a job matching ${describe(filter)} to be enqueued; enqueued for that worker: ` +
      (sameWorker.length === 0
        ? 'none'
        : sameWorker
            .slice(0, 10)
            .map((other) => JSON.stringify({ queue: other.queue, args: other.args, meta: other.meta }))
            .join(', ')),
  );
}

/** Fails if a matching job is enqueued. */
export async function refuteEnqueued<W extends WorkerClass>(
  koban: Koban,
  filter: EnqueuedFilter<W>,
): Promise<void> {
  const found = await allEnqueued(koban, filter);
  if (found.length > 0) {
    throw new Error(
      `expected no job matching ${describe(filter)} to be enqueued, found ${found.length} (first id ${found[0]!.id})`,
    );
  }
}

function resolve<W extends WorkerClass>(ref: WorkerRef<W>): { worker: W; codec?: Codec<ArgsOf<W>> } {
  return typeof ref === 'function' ? { worker: ref } : { worker: ref.worker, codec: ref.codec };
}

function workerName(ref: WorkerRef | string): string {
  return typeof ref === 'string' ? ref : getWorkerDefinition(resolve(ref).worker).name;
}

/** Args filters are written in typed form; compare them in stored form when a codec exists. */
function encodePartial(filter: EnqueuedFilter): unknown {
  if (filter.worker === undefined || typeof filter.worker === 'string') return filter.args;
  const { codec } = resolve(filter.worker);
  if (!codec) return filter.args;
  try {
    return codec.encode(filter.args as never);
  } catch {
    return JSON.parse(JSON.stringify(filter.args));
  }
}

function contains(actual: unknown, expected: unknown): boolean {
  if (expected === undefined) return true;
  if (typeof expected !== 'object' || expected === null || Array.isArray(expected)) {
    return isDeepStrictEqual(actual, expected);
  }
  if (typeof actual !== 'object' || actual === null) return false;
  return Object.entries(expected).every(([key, value]) => contains((actual as JsonObject)[key], value));
}

function describe(filter: EnqueuedFilter): string {
  const worker = filter.worker === undefined ? undefined : workerName(filter.worker);
  return JSON.stringify({
    worker,
    queue: filter.queue,
    args: filter.args,
    meta: filter.meta,
    state: filter.state,
  });
}

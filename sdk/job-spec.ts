import type { Codec } from './codec.js';
import type { Deadline } from './deadline.js';
import type { JsonObject } from './job.js';
import type { ArgsOf, ResultOf, WorkerClass } from './worker.js';
import type { UniqueOptions } from './worker-options.js';

/**
 * Per-job options, given to a builder's `new(args, options)` or to `insert(job, options)`. Each
 * may be `undefined` (the worker's default applies), as values from the environment are.
 */
export interface JobOptions<Args = any> {
  queue?: string | undefined;
  priority?: number | undefined;
  maxAttempts?: number | undefined;
  tags?: readonly string[] | undefined;
  meta?: JsonObject | undefined;
  /** Run no earlier than this time. */
  scheduledAt?: Date | undefined;
  /** Run no earlier than this many seconds from now. */
  scheduleIn?: number | undefined;
  /**
   * When the job must have started by (seconds from now, a Date, or either with `action`);
   * overrides the worker's `deadline`, and `false` drops it.
   */
  deadline?: Deadline | false | undefined;
  /** Overrides the worker's unique options for this job; `false` turns uniqueness off. */
  unique?: UniqueOptions<Args> | false | undefined;
  /** Slots this job takes of its queue's cluster-wide limits; overrides the worker's `weight`. */
  weight?: number | undefined;
  /** Makes the job part of this batch (a UUID): jobs inserted with the same id form one batch. */
  batchId?: string | undefined;
}

declare const resultType: unique symbol;

/**
 * A job ready to insert: which worker, its typed args, and options. Built by the generated
 * `MyWorker.new(args)` or by `newJob(MyWorker, args)`; carries the result type for typed reads.
 */
export interface JobSpec<Args = any, Result = unknown> {
  readonly worker: WorkerClass;
  readonly args: Args;
  readonly options: JobOptions<Args>;
  /** Validation and encoding for the args, when the builder came from `npx gen`. */
  readonly codec?: Codec<Args>;
  /** The args as `codec` encoded them when the builder built the job: an insert does not encode them again. */
  readonly encoded?: unknown;
  readonly [resultType]?: Result;
}

/** Builds a job spec for a worker class, typed from its `process` signature. */
export function newJob<W extends WorkerClass>(
  worker: W,
  args: ArgsOf<W>,
  options: JobOptions<ArgsOf<W>> = {},
  codec?: Codec<ArgsOf<W>>,
  encoded?: unknown,
): JobSpec<ArgsOf<W>, ResultOf<W>> {
  if (!codec) return { worker, args, options };
  return encoded === undefined ? { worker, args, options, codec } : { worker, args, options, codec, encoded };
}

export function isJobSpec(value: unknown): value is JobSpec {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as JobSpec).worker === 'function' &&
    'args' in value &&
    typeof (value as JobSpec).options === 'object'
  );
}

import type { BatchCallback, JobBatch } from '../../sdk/batch-context.js';
import type { Job, JobError, JobProgress, JsonObject } from '../../sdk/job.js';
import type { JobState } from '../../sdk/states.js';
import type { JobWorkflow } from '../../sdk/workflow-context.js';
import type { ClaimedJob } from '../engine/claim.js';
import { checkedProgress, type ProgressSink } from './progress.js';

/** What an attempt adds to the claimed job: its abort signal and, for tracked jobs, its contexts. */
export interface AttemptExtras {
  readonly abort: { readonly signal: AbortSignal };
  readonly workflow?: (() => JobWorkflow) | undefined;
  readonly batch?: (() => JobBatch) | undefined;
  /** Where `job.progress(value)` goes; without one (performJob), values are checked and dropped. */
  readonly progress?: ProgressSink | undefined;
}

/**
 * The job handed to `process`: the claimed record with its args decoded, and `signal`,
 * `workflow` and `batch` read through getters, made only when read. One is built per claimed
 * job on the hot path: a class with a private field costs a small fraction of a plain object
 * whose extras live in a WeakMap (whose entries the garbage collector must trace one by one).
 * The extras stay out of the job's own properties, so a job compares and serialises as its
 * stored fields.
 */
class AttemptJob<Args> {
  readonly id: string;
  readonly state: JobState;
  readonly queue: string;
  readonly worker: string;
  readonly args: Args;
  readonly meta: JsonObject;
  readonly tags: readonly string[];
  readonly errors: readonly JobError[];
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly priority: number;
  readonly insertedAt: Date;
  readonly scheduledAt: Date;
  readonly attemptedAt: Date | null;
  readonly completedAt: Date | null;
  readonly cancelledAt: Date | null;
  readonly discardedAt: Date | null;
  readonly attemptedBy: readonly string[];
  readonly workflowId: string | null;
  readonly workflowStep: string | null;
  readonly batchId: string | null;
  readonly batchCallback: BatchCallback | null;
  readonly #claimed: ClaimedJob;
  readonly #extras: AttemptExtras;
  #workflow: JobWorkflow | undefined;
  #batch: JobBatch | undefined;

  constructor(claimed: ClaimedJob, args: Args, extras: AttemptExtras) {
    this.id = claimed.id;
    this.state = claimed.state;
    this.queue = claimed.queue;
    this.worker = claimed.worker;
    this.args = args;
    this.meta = claimed.meta;
    this.tags = claimed.tags;
    this.errors = claimed.errors;
    this.attempt = claimed.attempt;
    this.maxAttempts = claimed.maxAttempts;
    this.priority = claimed.priority;
    this.insertedAt = claimed.insertedAt;
    this.scheduledAt = claimed.scheduledAt;
    this.attemptedAt = claimed.attemptedAt;
    this.completedAt = claimed.completedAt;
    this.cancelledAt = claimed.cancelledAt;
    this.discardedAt = claimed.discardedAt;
    this.attemptedBy = claimed.attemptedBy;
    this.workflowId = claimed.workflowId;
    this.workflowStep = claimed.workflowStep;
    this.batchId = claimed.batchId;
    this.batchCallback = claimed.batchCallback;
    this.#claimed = claimed;
    this.#extras = extras;
  }

  /** The same attempt with other args: what a `beforeProcess` hook that changes them hands on. */
  static withArgs<Args>(job: AttemptJob<unknown>, args: Args): AttemptJob<Args> {
    return new AttemptJob(job.#claimed, args, job.#extras);
  }

  progress(value: JobProgress): void {
    const sink = this.#extras.progress;
    if (sink) sink.set(this.#claimed, value);
    else checkedProgress(value, this.#claimed);
  }

  get signal(): AbortSignal {
    return this.#extras.abort.signal;
  }

  get workflow(): JobWorkflow | undefined {
    this.#workflow ??= this.#extras.workflow?.();
    return this.#workflow;
  }

  get batch(): JobBatch | undefined {
    this.#batch ??= this.#extras.batch?.();
    return this.#batch;
  }
}

/** `job` with `args` in place of its own, for the rest of the attempt. */
export function jobWithArgs<Args>(job: Job<unknown>, args: Args): Job<Args> {
  return AttemptJob.withArgs(job as unknown as AttemptJob<unknown>, args) as unknown as Job<Args>;
}

/** The job handed to `process` for a claimed job. */
export function attemptJob<Args>(claimed: ClaimedJob, args: Args, extras: AttemptExtras): Job<Args> {
  return new AttemptJob(claimed, args, extras) as unknown as Job<Args>;
}

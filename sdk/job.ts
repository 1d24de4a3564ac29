import type { BatchCallback, JobBatch } from './batch-context.js';
import type { JobState } from './states.js';
import type { JobWorkflow } from './workflow-context.js';

export { finalStates, type JobState, jobStates } from './states.js';

/** One failed attempt, kept on the job in order. */
export interface JobError {
  readonly attempt: number;
  readonly at: string;
  readonly error: string;
  readonly stack?: string;
}

export type JsonObject = { [key: string]: unknown };

/** What `job.progress(value)` stores: a number (a percentage, a count) or a small JSON value. */
export type JobProgress = number | string | boolean | readonly unknown[] | JsonObject;

/** A job as stored: what `getJob` and `listJobs` return. */
export interface JobRecord<Args = JsonObject, Meta extends JsonObject = JsonObject> {
  readonly id: string;
  readonly state: JobState;
  readonly queue: string;
  readonly worker: string;
  readonly args: Args;
  readonly meta: Meta;
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
  /** The workflow this job is a step of, or null. */
  readonly workflowId: string | null;
  /** The job's step name in its workflow, or null. */
  readonly workflowStep: string | null;
  /** The batch this job belongs to (or whose callback it runs), or null. */
  readonly batchId: string | null;
  /** For a batch's callback job, the callback it runs; null for every other job. */
  readonly batchCallback: BatchCallback | null;
  /** What the job's last `job.progress(value)` stored (from this or an earlier attempt), or null. */
  readonly progress: JobProgress | null;
}

/** The job handed to `process`: the stored job plus an abort signal for timeouts and shutdown. */
export interface Job<Args = JsonObject, Meta extends JsonObject = JsonObject>
  extends Omit<JobRecord<Args, Meta>, 'progress'> {
  /**
   * Stores how far the attempt got: a number or a small JSON value (at most 4 KiB as JSON),
   * readable at once through `getJob` and the `job:progress` event on any node. Calls are cheap:
   * the first is written at once, later ones at most once per `progressInterval`, and the last
   * one before the attempt ends is always written. Bad values throw a KobanValidationError.
   */
  progress(value: JobProgress): void;
  /** Aborted when the attempt times out, the job is cancelled, or the node shuts down. */
  readonly signal: AbortSignal;
  /** The job's workflow: its deps' recorded values, its steps, appending. Undefined outside a workflow. */
  readonly workflow: JobWorkflow | undefined;
  /** The job's batch: its jobs and counts. Undefined outside a batch. */
  readonly batch: JobBatch | undefined;
}

import type { Job, JobRecord } from './job.js';
import type { JobState } from './states.js';

/** The callbacks a batch can run, in the order of their bits in `batches.callbacks` and `fired`. */
export const batchCallbacks = [
  'attempted',
  'completed',
  'discarded',
  'exhausted',
  'cancelled',
  'retryable',
] as const;

export type BatchCallback = (typeof batchCallbacks)[number];

/** The method a callback runs: `completed` runs `handleCompleted(job)`. */
export type BatchHandlerName = `handle${Capitalize<BatchCallback>}`;

type StrayHandlers<Instance> = {
  [Key in keyof Instance]: Key extends `handle${string}`
    ? Key extends BatchHandlerName
      ? never
      : Key
    : never;
}[keyof Instance];

/**
 * `unknown` for a worker class whose `handle…` methods are all batch callbacks; otherwise a type
 * the class lacks, whose property names the callbacks and whose value names the stray method.
 */
export type KnownCallbacks<W> = W extends abstract new (
  ...args: any
) => infer Instance
  ? [StrayHandlers<Instance>] extends [never]
    ? unknown
    : {
        readonly 'is not a batch callback; they are handleAttempted, handleCompleted, handleDiscarded, handleExhausted, handleCancelled, handleRetryable': StrayHandlers<Instance>;
      }
  : unknown;

export function handlerName(callback: BatchCallback): BatchHandlerName {
  return `handle${callback[0]!.toUpperCase()}${callback.slice(1)}` as BatchHandlerName;
}

/**
 * The callbacks a worker may implement for the batches it runs or is the callback worker of.
 * Each runs as an ordinary job (with retries) in the callback queue, inserted once per batch in
 * the transaction of the outcome that made its condition true. Declare `implements
 * BatchCallbacks<Args>` for typed jobs; `@Worker` rejects a `handle…` method that is not one of
 * these, so a misspelt callback is a compile error.
 */
export interface BatchCallbacks<Args = any> {
  /** Every job of the batch has been attempted at least once (or finished without running). */
  handleAttempted?(job: Job<Args>): unknown;
  /** Every job of the batch completed. Never runs once a job was discarded or cancelled. */
  handleCompleted?(job: Job<Args>): unknown;
  /** A job of the batch was discarded: it ran out of attempts, or returned `discard()`. */
  handleDiscarded?(job: Job<Args>): unknown;
  /** Every job of the batch finished, and at least one did not complete (discarded or cancelled). */
  handleExhausted?(job: Job<Args>): unknown;
  /** A job of the batch was cancelled. */
  handleCancelled?(job: Job<Args>): unknown;
  /** A job of the batch failed an attempt and will be retried. */
  handleRetryable?(job: Job<Args>): unknown;
}

/** `job.batch`: the job's batch, for batch jobs and for callback jobs. */
export interface JobBatch {
  readonly id: string;
  /** The `batchName` given when the batch was built, or null. */
  readonly name: string | null;
  /** For a callback job, the callback it runs; null for the batch's own jobs. */
  readonly callback: BatchCallback | null;
  /** The batch's jobs, callback jobs excluded, in insert order. */
  jobs(filter?: { readonly states?: readonly JobState[] }): Promise<JobRecord[]>;
  /** How many of the batch's jobs are in each state, callback jobs excluded. */
  counts(): Promise<Readonly<Record<JobState, number>>>;
}

/** What `koban.batchStatus(id)` reports. */
export interface BatchStatus {
  readonly id: string;
  readonly name: string | null;
  readonly total: number;
  readonly counts: Readonly<Record<JobState, number>>;
  /** Callbacks inserted so far, each at most once. */
  readonly fired: readonly BatchCallback[];
  /** Callbacks the callback worker implements. */
  readonly callbacks: readonly BatchCallback[];
  /** Whether every job of the batch has finished. */
  readonly finished: boolean;
}

import { faultError } from './errors.js';
import { checkUuid } from './ids.js';
import type { JsonObject } from './job.js';
import { isJobSpec, type JobSpec } from './job-spec.js';
import type { ArgsOf, WorkerClass } from './worker.js';
import { checkQueueName } from './worker-options.js';

export interface BatchOptions<W extends WorkerClass = WorkerClass> {
  /** The batch's id: a UUID. Default a new UUIDv7. */
  readonly batchId?: string;
  readonly batchName?: string;
  /**
   * The worker whose `handle…` methods run the callbacks. Default: the worker of the batch's
   * jobs, when they all share one.
   */
  readonly callbackWorker?: W | { readonly worker: W };
  /** Args of the callback jobs. Default `{}`. */
  readonly callbackArgs?: ArgsOf<W>;
  /** Meta of the callback jobs. */
  readonly callbackMeta?: JsonObject;
  /** The queue of the callback jobs. Default the callback worker's queue. */
  readonly callbackQueue?: string;
}

/** A group of jobs to insert at once with `koban.insertAll(batch)`; its callbacks fire once each. */
export interface Batch {
  readonly kind: 'batch';
  readonly jobs: readonly JobSpec[];
  readonly options: BatchOptions;
}

/**
 * Builds a batch: `batch(emails.map((email) => EmailWorker.new({ email })), { batchName: 'daily' })`.
 * The same batch results from inserting jobs built with `{ batchId }` in their options.
 */
export function batch<W extends WorkerClass>(jobs: readonly JobSpec[], options: BatchOptions<W> = {}): Batch {
  if (!Array.isArray(jobs) || jobs.length === 0) {
    throw faultError(
      'argument',
      'batch(jobs)',
      'expected a non-empty array of jobs built by MyWorker.new(args)',
    );
  }
  const stray = jobs.findIndex((job) => !isJobSpec(job));
  if (stray >= 0) {
    throw faultError('argument', `batch(jobs)`, `jobs[${stray}] is not a job built by MyWorker.new(args)`);
  }
  if (typeof options !== 'object' || options === null) {
    throw faultError('argument', 'batch(jobs, options)', `options must be an object, got ${String(options)}`);
  }
  if (options.batchId !== undefined) checkUuid(options.batchId, 'batchId', 'batch()');
  if (
    options.batchName !== undefined &&
    (typeof options.batchName !== 'string' || options.batchName === '')
  ) {
    throw faultError(
      'argument',
      'batch()',
      `batchName must be a non-empty string, got ${JSON.stringify(options.batchName)}`,
    );
  }
  if (options.callbackQueue !== undefined)
    checkQueueName(options.callbackQueue, 'batch() callbackQueue', 'argument');
  const worker = options.callbackWorker;
  if (worker !== undefined && typeof worker !== 'function' && typeof worker?.worker !== 'function') {
    throw faultError(
      'argument',
      'batch()',
      'callbackWorker must be a worker class or a builder from npx gen',
    );
  }
  return Object.freeze({
    kind: 'batch' as const,
    jobs: Object.freeze([...jobs]),
    options: Object.freeze({ ...options }) as BatchOptions,
  });
}

export function isBatch(value: unknown): value is Batch {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Batch).kind === 'batch' &&
    Array.isArray((value as Batch).jobs)
  );
}

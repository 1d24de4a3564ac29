import type { JobBatch } from '../../sdk/batch-context.js';
import type { Job } from '../../sdk/job.js';
import type { JobWorkflow } from '../../sdk/workflow-context.js';
import type { ClaimedJob } from '../engine/claim.js';

/** What an attempt adds to the claimed job: its abort signal and, for tracked jobs, its contexts. */
export interface AttemptExtras {
  readonly abort: { readonly signal: AbortSignal };
  readonly workflow?: (() => JobWorkflow) | undefined;
  readonly batch?: (() => JobBatch) | undefined;
}

interface AttemptState {
  readonly extras: AttemptExtras;
  workflow?: JobWorkflow | undefined;
  batch?: JobBatch | undefined;
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
 * The job handed to `process`: the claimed record with its args decoded, and `signal`,
 * `workflow` and `batch` through its prototype. It runs once per claimed job on the hot path,
 * so it builds a plain literal: no getter, no closure per job.
 */
export function attemptJob<Args>(claimed: ClaimedJob, args: Args, extras: AttemptExtras): Job<Args> {
  const job = {
    __proto__: attemptPrototype,
    id: claimed.id,
    state: claimed.state,
    queue: claimed.queue,
    worker: claimed.worker,
    args,
    meta: claimed.meta,
    tags: claimed.tags,
    errors: claimed.errors,
    attempt: claimed.attempt,
    maxAttempts: claimed.maxAttempts,
    priority: claimed.priority,
    insertedAt: claimed.insertedAt,
    scheduledAt: claimed.scheduledAt,
    attemptedAt: claimed.attemptedAt,
    completedAt: claimed.completedAt,
    cancelledAt: claimed.cancelledAt,
    discardedAt: claimed.discardedAt,
    attemptedBy: claimed.attemptedBy,
    workflowId: claimed.workflowId,
    workflowStep: claimed.workflowStep,
    batchId: claimed.batchId,
    batchCallback: claimed.batchCallback,
  };
  attempts.set(job, { extras });
  return job as unknown as Job<Args>;
}

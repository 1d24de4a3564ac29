import { type BatchCallbacks, cancel, defineWorker, discard, type Job, Worker } from '../../index.js';

// The seed's batch worker, and workers for the other callbacks. Each callback run is noted in
// `callbacks` with what its job carried, for the tests to check.

export interface CallbackRun {
  readonly callback: string;
  readonly batchId: string | undefined;
  readonly args: unknown;
  readonly meta: unknown;
  readonly queue: string;
  readonly jobs: number;
}

export const callbacks: CallbackRun[] = [];

async function note(callback: string, job: Job<unknown>): Promise<void> {
  callbacks.push({
    callback,
    batchId: job.batch?.id,
    args: job.args,
    meta: job.meta,
    queue: job.queue,
    jobs: (await job.batch!.jobs()).length,
  });
}

export const runsOf = (batchId: string) => callbacks.filter((run) => run.batchId === batchId);

/** The seed's EmailBatchWorker: sends one email per job; an address with "fail" never works. */
@Worker({ queue: 'mailers', maxAttempts: 2 })
export class EmailBatchWorker implements BatchCallbacks<{ email: string }> {
  async process(job: Job<{ email: string }>): Promise<void> {
    if (job.args.email.includes('fail')) throw new Error(`cannot send to ${job.args.email}`);
  }

  backoff() {
    return 0;
  }

  async handleCompleted(job: Job<{ email: string }>) {
    await note('completed', job);
  }

  async handleExhausted(job: Job<{ email: string }>) {
    await note('exhausted', job);
  }
}

/** Ends as its args say; `failUntilAttempt` makes the first attempts throw. */
export class TaskWorker {
  async process(
    job: Job<{ outcome?: 'complete' | 'cancel' | 'discard'; failUntilAttempt?: number; ms?: number }>,
  ) {
    if (job.args.ms) await new Promise((resolve) => setTimeout(resolve, job.args.ms));
    if (job.attempt < (job.args.failUntilAttempt ?? 0)) throw new Error(`attempt ${job.attempt} fails`);
    if (job.args.outcome === 'cancel') return cancel('this task gives up');
    if (job.args.outcome === 'discard') return discard('this task is hopeless');
    return undefined;
  }
  backoff() {
    return 0;
  }
}
defineWorker(TaskWorker, { queue: 'tasks', maxAttempts: 3 });

/** Implements every callback; the callback named in its args fails once before it succeeds. */
export class EveryCallback implements BatchCallbacks<{ flaky?: string }> {
  async process() {}
  async handleAttempted(job: Job<{ flaky?: string }>) {
    await this.run('attempted', job);
  }
  async handleCompleted(job: Job<{ flaky?: string }>) {
    await this.run('completed', job);
  }
  async handleDiscarded(job: Job<{ flaky?: string }>) {
    await this.run('discarded', job);
  }
  async handleExhausted(job: Job<{ flaky?: string }>) {
    await this.run('exhausted', job);
  }
  async handleCancelled(job: Job<{ flaky?: string }>) {
    await this.run('cancelled', job);
  }
  async handleRetryable(job: Job<{ flaky?: string }>) {
    await this.run('retryable', job);
  }
  backoff() {
    return 0;
  }
  private async run(callback: string, job: Job<{ flaky?: string }>) {
    if (job.args.flaky === callback && job.attempt === 1) throw new Error(`${callback} fails once`);
    await note(callback, job);
  }
}
defineWorker(EveryCallback, { queue: 'callbacks', maxAttempts: 3 });

export const batchWorkers = [EmailBatchWorker, TaskWorker, EveryCallback];
export const batchQueues = { mailers: 10, tasks: 10, callbacks: 5 };

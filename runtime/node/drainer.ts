import { KobanValidationError } from '../../sdk/errors.js';
import type { JobRecord } from '../../sdk/job.js';
import type { ClaimedJob } from '../engine/claim.js';
import type { Engine } from '../engine/engine.js';
import type { JobFilter } from '../engine/job-filter.js';
import { readableJobs } from '../workers/readable-jobs.js';
import type { WorkerCatalog } from '../workers/worker-catalog.js';
import type { Attempt, ExecutorDeps, RunningJob } from './executor.js';
import { executeAttempt } from './run-attempt.js';

export interface DrainOptions {
  /** Only this queue; default every queue. */
  queue?: string;
  /** Also run scheduled and retryable jobs now, whatever their time. Default false. */
  withScheduled?: boolean;
  /**
   * Keep draining the jobs that drained jobs cause: jobs they insert, workflow steps their
   * completion releases, batch callbacks. Default true.
   */
  withRecursion?: boolean;
  /** Run at most this many jobs (snoozes included); the rest stay where they are. Default no limit. */
  limit?: number;
  /**
   * Default true: an error a job throws is caught and recorded, as in production. `false` throws
   * the first such error from `drainJobs` once its outcome is written (Oban's `with_safety: false`),
   * so a test fails with the worker's own stack.
   */
  withSafety?: boolean;
}

export type DrainResult = Record<'completed' | 'cancelled' | 'discarded' | 'retryable' | 'snoozed', number>;

/**
 * Runs jobs one at a time on the node's own executor, writing each outcome before the next job
 * runs (Oban's Queues.Drainer): what `drainJobs`, `runWorkflow`, `runBatch` and the `inline`
 * testing mode run jobs through.
 */
export class Drainer {
  private readonly running = new Map<string, RunningJob>();

  constructor(
    private readonly engine: Engine,
    private readonly catalog: WorkerCatalog,
    private readonly deps: ExecutorDeps,
  ) {}

  /** Runs available jobs until none is left; counts the outcomes. */
  async drain(options: DrainOptions = {}): Promise<DrainResult> {
    const counts: DrainResult = { completed: 0, cancelled: 0, discarded: 0, retryable: 0, snoozed: 0 };
    const snoozed = new Set<string>();
    const limit = drainLimit(options.limit);
    let ran = 0;
    for (;;) {
      // A job past its deadline is never claimed: end it before it could keep the drain going.
      await this.engine.expireDeadlines();
      if (options.withScheduled) await this.engine.stageNow({ queue: options.queue }, [...snoozed]);
      else await this.engine.stage();
      // A job that snoozes runs once per drain: snoozing again would keep the drain going forever.
      let progress = 0;
      for (const queue of await this.engine.availableQueues(options.queue)) {
        if (ran >= limit) return counts;
        for (const claimed of this.hold(
          await this.engine.claim(queue, Math.min(100, limit - ran), this.deps.node),
        )) {
          const { ack, outcome } = await this.run(claimed);
          ran++;
          if (options.withSafety === false && outcome.kind === 'error') throw outcome.error;
          if (ack.state === 'scheduled' && snoozed.has(claimed.id)) continue;
          counts[ack.state === 'scheduled' ? 'snoozed' : ack.state]++;
          progress++;
          if (ack.state === 'scheduled') snoozed.add(claimed.id);
        }
      }
      if (progress === 0 || options.withRecursion === false || ran >= limit) return counts;
    }
  }

  /**
   * Runs the jobs of a workflow or batch until none is left to run: retries and scheduled jobs
   * at once, a job that snoozes once more at most (snoozing again would never end).
   */
  async drainScope(scope: { workflowId?: string; batchId?: string }): Promise<void> {
    const snoozed = new Set<string>();
    for (;;) {
      await this.engine.expireDeadlines();
      await this.engine.stageNow(scope, [...snoozed]);
      const ids = await this.engine.availableIn(scope);
      if (ids.length === 0) return;
      for (const claimed of this.hold(await this.engine.claimById(ids, this.deps.node))) {
        const { ack } = await this.run(claimed);
        if (ack.state === 'scheduled') snoozed.add(claimed.id);
      }
    }
  }

  /** Every job matching a filter, oldest first, with args opened where the keys are known. */
  async listJobs(filter: Omit<JobFilter, 'limit'>): Promise<JobRecord[]> {
    return readableJobs(this.catalog, await this.engine.allJobs(filter));
  }

  /** Claimed jobs count as held by the node until their outcome is written: see convergence.ts. */
  private hold(claimed: ClaimedJob[]): ClaimedJob[] {
    for (const job of claimed) this.deps.held?.add(job.id);
    return claimed;
  }

  /** Runs a claimed job on the production executor and writes its outcome before returning. */
  private async run(claimed: ClaimedJob): Promise<Attempt> {
    try {
      const attempt = await executeAttempt(claimed, this.deps, this.running);
      await this.engine.ack([attempt.ack]);
      return attempt;
    } finally {
      this.deps.held?.delete(claimed.id);
    }
  }
}

function drainLimit(limit: number | undefined): number {
  if (limit === undefined) return Number.POSITIVE_INFINITY;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new KobanValidationError([
      { path: 'drainJobs: limit', message: `expected a whole number of jobs above 0, got ${String(limit)}` },
    ]);
  }
  return limit;
}

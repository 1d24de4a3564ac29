import type { JobRecord } from '../../sdk/job.js';
import type { ClaimedRow } from '../engine/claim.js';
import type { Engine } from '../engine/engine.js';
import { allJobs, availableQueues, type JobFilter } from '../job-queries.js';
import { type Attempt, type ExecutorDeps, executeJob, type RunningJob } from '../node/executor.js';
import type { WorkerCatalog } from '../workers/worker-catalog.js';

/**
 * What koban/testing runs jobs through: the node's engine and its production executor, with the
 * outcome of each job written at once instead of batched (Oban's inline ack).
 */
export class TestingHarness {
  private readonly running = new Map<string, RunningJob>();

  constructor(
    private readonly engine: Engine,
    readonly catalog: WorkerCatalog,
    private readonly deps: ExecutorDeps,
  ) {}

  /** Makes due scheduled and retryable jobs available. */
  async stage(): Promise<void> {
    await this.engine.stage();
  }

  /** Makes every scheduled and retryable job (of one queue) available now, except `keep`. */
  stageAll(queue: string | undefined, keep: readonly string[]): Promise<void> {
    return this.engine.stageAll(queue, keep);
  }

  /** The queues that have available jobs (or just `queue`, if it has any). */
  availableQueues(queue?: string): Promise<string[]> {
    return availableQueues(this.engine.database, this.engine.schema, queue);
  }

  claim(queue: string, limit: number): Promise<ClaimedRow[]> {
    return this.engine.claim(queue, limit, this.deps.node);
  }

  /** Runs a claimed job on the production executor and writes its outcome before returning. */
  async run(row: ClaimedRow): Promise<Attempt> {
    const attempt = await executeJob(row, this.deps, this.running);
    await this.engine.ack([attempt.ack]);
    return attempt;
  }

  /** Every job matching a filter, oldest first, with args opened where the keys are known. */
  listJobs(filter: Omit<JobFilter, 'limit'>): Promise<JobRecord[]> {
    return allJobs(this.engine.database, this.engine.schema, this.catalog, filter);
  }
}

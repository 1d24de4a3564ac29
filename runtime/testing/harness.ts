import { sql } from 'drizzle-orm';
import type { JobRecord } from '../../sdk/job.js';
import type { ClaimedRow } from '../engine/claim.js';
import type { Engine } from '../engine/engine.js';
import type { StageScope } from '../engine/stage.js';
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

  /** Makes the scheduled and retryable jobs of a scope available now, except `keep`. */
  stageNow(scope: StageScope, keep: readonly string[]): Promise<void> {
    return this.engine.stageNow(scope, keep);
  }

  /** The queues that have available jobs (or just `queue`, if it has any). */
  availableQueues(queue?: string): Promise<string[]> {
    return availableQueues(this.engine.database, this.engine.schema, queue);
  }

  /** The ids of the available jobs of a workflow or batch, oldest first. */
  async availableIn(scope: { workflowId?: string; batchId?: string }): Promise<string[]> {
    const rows = await this.engine.database.query<{ id: string }>(sql`
      SELECT id FROM ${sql.raw(this.engine.schema)}.jobs
      WHERE state = 'available'
        AND ${scope.workflowId === undefined ? sql`true` : sql`workflow_id = ${scope.workflowId}::uuid`}
        AND ${scope.batchId === undefined ? sql`true` : sql`batch_id = ${scope.batchId}::uuid`}
      ORDER BY priority, scheduled_at, id`);
    return rows.map((row) => String(row.id));
  }

  claim(queue: string, limit: number): Promise<ClaimedRow[]> {
    return this.engine.claim(queue, limit, this.deps.node);
  }

  claimById(ids: readonly string[]): Promise<ClaimedRow[]> {
    return this.engine.claimById(ids, this.deps.node);
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

import type { Batch } from '../../sdk/batch.js';
import type { BatchStatus, JobBatch } from '../../sdk/batch-context.js';
import type { JobSpec } from '../../sdk/job-spec.js';
import type { Executor } from '../database/executor.js';
import type { ClaimedJob } from '../engine/claim.js';
import type { EngineContext } from '../engine/context.js';
import type { EngineExtension } from '../engine/extension.js';
import type { InsertedJob, InsertPlan, InsertRow, PlanWrite } from '../engine/insert.js';
import type { WorkerCatalog } from '../workers/worker-catalog.js';
import { appendBatch } from './append.js';
import { jobBatch } from './context.js';
import { countBatchesStatement, countTransitions } from './counting.js';
import { appendedBatchPlan, batchPlan, joinedBatches } from './plan.js';
import { batchStatus } from './status.js';

/**
 * Batches, whole: what an insert of a batch writes, the counting of its jobs' outcomes (in the
 * same transaction, or the same statement, as each outcome), appends, status, and `job.batch`.
 * The engine hears of it through `extension`.
 */
export class Batches {
  readonly extension: EngineExtension;

  constructor(
    private readonly ctx: EngineContext,
    private readonly catalog: WorkerCatalog,
  ) {
    this.extension = {
      name: 'batches',
      // A batch's callback jobs are not counted in it.
      tracks: (job) => job.batchId !== null && job.batchCallback === null,
      onTransitions: async (tx, transitions) => {
        await countTransitions(ctx, tx, transitions);
        return [];
      },
      countInAck: (done) => countBatchesStatement(ctx.schema, done),
    };
  }

  /** Everything `insertAll(batch(jobs, options))` writes. */
  plan(batch: Batch): Promise<InsertPlan> {
    return batchPlan(this.ctx, this.catalog, batch);
  }

  /** The writes that count rows built with `{ batchId }` into their batches. */
  joined(specs: readonly JobSpec[], rows: readonly InsertRow[]): Promise<PlanWrite[]> {
    return joinedBatches(this.ctx, this.catalog, specs, rows);
  }

  async append(batchId: string, jobs: readonly JobSpec[], tx?: Executor): Promise<InsertedJob[]> {
    return appendBatch(this.ctx, batchId, await appendedBatchPlan(this.ctx, this.catalog, batchId, jobs), tx);
  }

  status(batchId: string): Promise<BatchStatus | null> {
    return batchStatus(this.ctx, batchId);
  }

  /** `job.batch` for a claimed job of a batch. */
  context(job: ClaimedJob): JobBatch {
    return jobBatch(this.ctx, this.catalog, job);
  }
}

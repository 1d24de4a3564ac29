import type { Database, Executor } from '../database/database.js';
import type { JobSelection } from '../job-queries.js';
import { type Ack, writeAcks } from './ack.js';
import { appendBatch } from './batch-append.js';
import { batchSubscriber } from './batch-tracking.js';
import { type ClaimedRow, claimJobs, claimJobsById } from './claim.js';
import { cancelJobs, deleteJobs, retryJobs } from './commands.js';
import type { EngineContext } from './context.js';
import { type InsertedJob, type InsertPlan, insertPlan, type PlannedBatch } from './insert.js';
import { pruneJobs } from './prune.js';
import {
  readQueueStates,
  type Signal,
  type StoredQueueState,
  signal,
  storeQueueState,
} from './queue-meta.js';
import { rescueOrphans } from './rescue.js';
import { type StageScope, stageDueJobs, stageNow } from './stage.js';
import type { TransitionSubscriber } from './transitions.js';
import { type AppendedStep, appendWorkflow } from './workflow-append.js';
import { workflowSubscriber } from './workflow-release.js';
import { type SweepResult, sweepHeldSteps } from './workflow-sweep.js';

/**
 * The only code that writes a job's state, as Oban's Engine is: insert, claim, ack, stage,
 * rescue, prune, the commands by selection, and the workflow and batch bookkeeping those
 * writes cause. Each operation lives in its own file; this is the contract the rest of the
 * runtime (producers, plugins, the Koban facade, testing helpers) works through. One
 * implementation serves postgres.js and PGlite: the Database hides the driver.
 *
 * Every write that moves workflow or batch jobs to a final state (or back out of one) reports
 * the transitions to the workflow and batch subscribers, in its own transaction.
 */
export class Engine {
  private readonly ctx: EngineContext;
  private readonly subscribers: TransitionSubscriber[] = [];

  constructor(database: Database, schema: string) {
    this.ctx = { database, schema, subscribers: this.subscribers };
    this.subscribers.push(workflowSubscriber(this.ctx), batchSubscriber(this.ctx));
  }

  /**
   * Adds a subscriber to the transitions of workflow and batch jobs: it runs inside the
   * transaction of each write that makes some. Returns the function that removes it.
   */
  subscribe(subscriber: TransitionSubscriber): () => void {
    this.subscribers.push(subscriber);
    return () => {
      const index = this.subscribers.indexOf(subscriber);
      if (index >= 0) this.subscribers.splice(index, 1);
    };
  }

  get schema(): string {
    return this.ctx.schema;
  }

  get database(): Database {
    return this.ctx.database;
  }

  insert(plan: InsertPlan, tx?: Executor): Promise<InsertedJob[]> {
    return insertPlan(this.ctx, plan, tx);
  }

  appendWorkflow(
    workflowId: string,
    append: { readonly steps: readonly AppendedStep[]; readonly batches: readonly PlannedBatch[] },
    tx?: Executor,
  ): Promise<InsertedJob[]> {
    return appendWorkflow(this.ctx, workflowId, append, tx);
  }

  appendBatch(batchId: string, plan: InsertPlan, tx?: Executor): Promise<InsertedJob[]> {
    return appendBatch(this.ctx, batchId, plan, tx);
  }

  claim(queue: string, limit: number, node: string): Promise<ClaimedRow[]> {
    return claimJobs(this.ctx, queue, limit, node);
  }

  claimById(ids: readonly string[], node: string): Promise<ClaimedRow[]> {
    return claimJobsById(this.ctx, ids, node);
  }

  ack(acks: readonly Ack[]): Promise<void> {
    return writeAcks(this.ctx, acks);
  }

  stage(limit?: number): Promise<number> {
    return stageDueJobs(this.ctx, limit);
  }

  /** Makes the scheduled and retryable jobs of a scope available now, except `keep`. */
  stageNow(scope: StageScope, keep: readonly string[]): Promise<void> {
    return stageNow(this.ctx, scope, keep);
  }

  rescue(deadAfterMs: number): Promise<number> {
    return rescueOrphans(this.ctx, deadAfterMs);
  }

  prune(maxAgeSeconds: number, limit: number): Promise<number> {
    return pruneJobs(this.ctx, maxAgeSeconds, limit);
  }

  sweepWorkflows(after: string): Promise<SweepResult> {
    return sweepHeldSteps(this.ctx, after);
  }

  cancel(selection: JobSelection): Promise<number> {
    return cancelJobs(this.ctx, selection);
  }

  retry(selection: JobSelection): Promise<number> {
    return retryJobs(this.ctx, selection);
  }

  delete(selection: JobSelection): Promise<number> {
    return deleteJobs(this.ctx, selection);
  }

  readQueueStates(): Promise<Map<string, StoredQueueState>> {
    return readQueueStates(this.ctx);
  }

  storeQueueState(queue: string, change: { paused?: boolean; limit?: number }): Promise<void> {
    return storeQueueState(this.ctx, queue, change);
  }

  signal(message: Signal): Promise<void> {
    return signal(this.ctx, message);
  }
}

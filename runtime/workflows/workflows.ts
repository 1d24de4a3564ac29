import { sql } from 'drizzle-orm';
import { KobanValidationError } from '../../sdk/errors.js';
import type { JobRecord, JsonObject } from '../../sdk/job.js';
import type { Workflow } from '../../sdk/workflow.js';
import type {
  JobWorkflow,
  WorkflowResult,
  WorkflowStatus,
  WorkflowStreamOptions,
} from '../../sdk/workflow-context.js';
import type { Executor } from '../database/executor.js';
import type { ClaimedJob } from '../engine/claim.js';
import type { EngineContext } from '../engine/context.js';
import type { EngineExtension } from '../engine/extension.js';
import type { InsertedJob, InsertPlan } from '../engine/insert.js';
import type { WorkerCatalog } from '../workers/worker-catalog.js';
import { appendWorkflow } from './append.js';
import { jobWorkflow, type WorkflowAccess, workflowContext } from './context.js';
import { graftingJob, graftWorkflow } from './graft.js';
import { workflowJobs } from './jobs.js';
import { appendedSteps, workflowPlan } from './plan.js';
import { releaseSubscriber } from './release.js';
import { workflowResult } from './result.js';
import { workflowStatus } from './status.js';
import { StepReads } from './step-reads.js';
import { depTraceparents, storeStepTraceparent } from './step-traces.js';
import { streamWorkflowJobs } from './stream.js';
import { type SweepResult, sweepHeldSteps } from './sweep.js';

/**
 * Workflows, whole: what an insert of a workflow writes, the release of steps as their deps
 * finish (in the transaction that finishes them), appends, the sweeper's net, status, and
 * `job.workflow`. The engine hears of it through `extension`.
 */
export class Workflows {
  readonly extension: EngineExtension;
  private readonly reads: StepReads;

  constructor(
    private readonly ctx: EngineContext,
    private readonly catalog: WorkerCatalog,
  ) {
    this.reads = new StepReads(ctx);
    this.extension = {
      name: 'workflows',
      tracks: (job) => job.workflowId !== null,
      onTransitions: releaseSubscriber(ctx),
    };
  }

  /** Everything `insertAll(workflow)` writes: the workflow, its steps (held when they have deps), their edges. */
  plan(workflow: Workflow<any, any>): Promise<InsertPlan> {
    return workflowPlan(this.ctx, this.catalog, workflow);
  }

  async append(workflowId: string, workflow: Workflow<any, any>, tx?: Executor): Promise<InsertedJob[]> {
    const appended = await appendedSteps(this.ctx, this.catalog, workflow, workflowId);
    return appendWorkflow(this.ctx, workflowId, appended, tx);
  }

  /** Grows a workflow from its running graft step; null when the graft grew before (see graft.ts). */
  graft(job: ClaimedJob, workflow: Workflow<any, any>): Promise<InsertedJob[] | null> {
    return graftWorkflow(this.ctx, this.catalog, graftingJob(job), workflow);
  }

  /** The steps a graft step added, in insert order. */
  grafted(job: ClaimedJob): Promise<JobRecord[]> {
    const prefix = `${job.workflowStep}.`;
    return workflowJobs(
      this.ctx,
      this.catalog,
      job.workflowId!,
      {},
      sql`starts_with(j.workflow_step, ${prefix})`,
    );
  }

  /** A finished workflow's result; null while it runs, undefined for an unknown id (see result.ts). */
  result(workflowId: string): Promise<WorkflowResult | null | undefined> {
    return workflowResult(this.ctx, this.catalog, workflowId);
  }

  /** A workflow's jobs in insert order, read a page at a time (see stream.ts). */
  stream(workflowId: string, options: WorkflowStreamOptions): AsyncIterable<JobRecord> {
    if (options.onlyDeps) {
      throw new KobanValidationError([
        {
          path: 'streamWorkflowJobs: onlyDeps',
          message: "names a step's deps: use job.workflow.streamJobs inside the step",
        },
      ]);
    }
    return streamWorkflowJobs(this.ctx, this.catalog, workflowId, options);
  }

  status(workflowId: string): Promise<WorkflowStatus | null> {
    return workflowStatus(this.ctx, workflowId);
  }

  /** A workflow's context: `{}` when it has none or does not exist. */
  contextOf(workflowId: string): Promise<JsonObject> {
    return workflowContext(this.ctx, workflowId);
  }

  /** Resolves a window of held steps whose release was lost; see sweep.ts. */
  sweep(after: string): Promise<SweepResult> {
    return sweepHeldSteps(this.ctx, after);
  }

  /** For tracing: the trace contexts the step's deps left under `key`. */
  depTraceparents(jobId: string, key: string): Promise<string[]> {
    return depTraceparents(this.ctx, jobId, key);
  }

  /** For tracing: leaves a running step's trace context under `key` for its dependents. */
  storeStepTraceparent(jobId: string, attempt: number, key: string, traceparent: string): Promise<void> {
    return storeStepTraceparent(this.ctx, jobId, attempt, key, traceparent);
  }

  /** `job.workflow` for a claimed workflow step. */
  context(job: ClaimedJob, access: WorkflowAccess): JobWorkflow {
    return jobWorkflow(this.ctx, access, job, this.reads);
  }
}

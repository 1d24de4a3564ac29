import type { Batch } from '../../sdk/batch.js';
import type { BatchCallback, BatchStatus } from '../../sdk/batch-context.js';
import type { JobRecord } from '../../sdk/job.js';
import type { JobSpec } from '../../sdk/job-spec.js';
import type { JobState } from '../../sdk/states.js';
import type { Workflow, WorkflowSteps } from '../../sdk/workflow.js';
import type { WorkflowStatus } from '../../sdk/workflow-context.js';
import type { Koban } from '../koban.js';
import { drainerKey } from '../node/internals.js';

/** What a job of a workflow or batch came to, with the value it recorded (if its worker is `@Recorded`). */
export interface JobOutcome<Result = unknown> {
  readonly state: JobState;
  readonly job: JobRecord<unknown>;
  /** The recorded value; undefined when the job did not complete or records nothing. */
  readonly value: Result | undefined;
}

type ResultOfSpec<Spec> = Spec extends JobSpec<any, infer Result> ? Result : never;

/** The job steps of a workflow type (sub-workflow names left out), each with its result type. */
export type StepOutcomes<W> = {
  readonly [Name in keyof WorkflowSteps<W> as WorkflowSteps<W>[Name] extends JobSpec
    ? Name
    : never]: JobOutcome<ResultOfSpec<WorkflowSteps<W>[Name]>>;
};

export interface WorkflowRun<W> {
  readonly workflowId: string;
  readonly state: WorkflowStatus['state'];
  readonly steps: StepOutcomes<W>;
}

export interface BatchRun {
  readonly batchId: string;
  readonly status: BatchStatus;
  /** The batch's jobs in insert order, callback jobs left out. */
  readonly jobs: readonly JobOutcome[];
  /** The callback jobs that ran, by callback. */
  readonly callbacks: Partial<Record<BatchCallback, JobOutcome>>;
}

async function outcomeOf(koban: Koban, job: JobRecord<unknown>): Promise<JobOutcome> {
  const recorded = job.state === 'completed' ? await koban.fetchRecorded(job.id) : undefined;
  return { state: job.state, job, value: recorded?.status === 'ok' ? recorded.value : undefined };
}

/**
 * Inserts a workflow and runs it inline to the end, on the node's own executor: each step once
 * its deps have finished, retries at once. Returns each step's outcome and recorded value, typed
 * from the workflow: `run.steps.extract.value` has ExtractWorker's result type. Use it with
 * `Koban.start({ testing: 'manual' })` (or `queues: {}`) so that no producer competes.
 */
export async function runWorkflow<W extends Workflow<any, any>>(
  koban: Koban,
  flow: W,
): Promise<WorkflowRun<W>> {
  const [first] = await koban.insertAll(flow);
  const workflowId = first!.workflowId!;
  const drainer = koban[drainerKey]();
  await drainer.drainScope({ workflowId });
  const status = (await koban.workflowStatus(workflowId))!;
  const jobs = await drainer.listJobs({ workflowId });
  const steps: Record<string, JobOutcome> = {};
  for (const job of jobs) steps[job.workflowStep!] = await outcomeOf(koban, job);
  return { workflowId, state: status.state, steps: steps as unknown as StepOutcomes<W> };
}

/**
 * Inserts a batch and runs it inline to the end, callbacks included, on the node's own
 * executor. Returns each job's outcome, the callbacks that ran, and the batch's status.
 */
export async function runBatch(koban: Koban, source: Batch): Promise<BatchRun> {
  const [first] = await koban.insertAll(source);
  const batchId = first!.batchId!;
  const drainer = koban[drainerKey]();
  await drainer.drainScope({ batchId });
  const status = (await koban.batchStatus(batchId))!;
  const jobs: JobOutcome[] = [];
  const callbacks: Partial<Record<BatchCallback, JobOutcome>> = {};
  for (const job of await drainer.listJobs({ batchId })) {
    if (job.batchCallback) callbacks[job.batchCallback] = await outcomeOf(koban, job);
    else jobs.push(await outcomeOf(koban, job));
  }
  return { batchId, status, jobs, callbacks };
}

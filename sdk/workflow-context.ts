import type { JobRecord, JsonObject } from './job.js';
import type { JobState } from './states.js';
import type { ResultOf, WorkerClass } from './worker.js';
import type { Workflow } from './workflow.js';

/** Which jobs of a workflow `job.workflow.jobs()` lists. */
export interface WorkflowJobsFilter {
  /** Only the steps this job waits for. Default false: every step. */
  readonly onlyDeps?: boolean;
  /** Only these step names. */
  readonly names?: readonly string[];
  /** Only jobs in these states. */
  readonly states?: readonly JobState[];
}

/** How `streamJobs` pages through a workflow's jobs. */
export interface WorkflowStreamOptions extends WorkflowJobsFilter {
  /** Jobs read per query. Default 500. */
  readonly batchSize?: number;
}

/** A worker class, or a builder from `npx gen` that carries one: types a recorded value. */
export type WorkerLike<W extends WorkerClass = WorkerClass> = W | { readonly worker: W };

/** Adds steps to a running workflow; deps may name its existing steps. */
export type WorkflowAppender = (workflow: Workflow<{}, string>) => Workflow<any, string>;

/**
 * `job.workflow` inside `process`: the job's place in its workflow, and what it may read from
 * the other steps. Undefined for a job outside a workflow.
 */
export interface JobWorkflow {
  readonly id: string;
  /** The `workflowName` given when the workflow was built, or null. */
  readonly name: string | null;
  /** This job's step name (`parent.step` inside a sub-workflow). */
  readonly step: string;
  /**
   * The value a `@Recorded` step of this workflow returned, or undefined when it has none (not
   * completed, or not recorded); for a many (`addMany`), the list of its jobs' values, in
   * order. Names resolve within this job's sub-workflow first. Pass the
   * step's worker or builder to type the value: `getRecorded('extract', ExtractWorker)`.
   */
  getRecorded<W extends WorkerClass>(step: string, worker: WorkerLike<W>): Promise<ResultOf<W> | undefined>;
  getRecorded<Result = unknown>(step: string): Promise<Result | undefined>;
  /**
   * The recorded values of the workflow's completed steps (or only this job's deps), by step
   * name; each many's list of values is there under its name too.
   */
  allRecorded(options?: { readonly onlyDeps?: boolean }): Promise<Record<string, unknown>>;
  /** The workflow's jobs, in insert order. */
  jobs(filter?: WorkflowJobsFilter): Promise<JobRecord[]>;
  /**
   * The workflow's jobs, in insert order, as an async iterator that reads `batchSize` at a time
   * (keyset pages by id), for workflows too large to hold in memory at once.
   */
  streamJobs(options?: WorkflowStreamOptions): AsyncIterable<JobRecord>;
  /**
   * The workflow's context: the `context` it was built with, with every `putContext` since (`{}`
   * when none). Type it with what the workflow puts there: `getContext<{ tenant: string }>()`.
   */
  getContext<Context extends JsonObject = JsonObject>(): Promise<Context>;
  /**
   * Merges `values` into the workflow's context (top-level keys replace), atomically however
   * many steps put at once; returns the context as it is then. Later steps read it.
   */
  putContext<Context extends JsonObject = JsonObject>(values: Partial<Context>): Promise<Context>;
  /** Adds steps to this workflow, as `koban.appendWorkflow(job.workflow.id, build)` does. */
  append(build: WorkflowAppender): Promise<JobRecord<unknown>[]>;
  /**
   * For a step added with `addGraft`: grows the workflow with the steps `build` adds, named
   * `step.name`, and makes every step that waits for this one wait for them too. A graft grows
   * once: called again (on a retry), it adds nothing and returns the steps it added before.
   */
  graft(build: WorkflowAppender): Promise<JobRecord<unknown>[]>;
}

/** A finished workflow's result, as `koban.workflowResult(id)` and `awaitWorkflow` return it. */
export interface WorkflowResult<Results extends Record<string, unknown> = Record<string, unknown>> {
  readonly id: string;
  readonly state: 'completed' | 'failed';
  /**
   * The values of the steps `.returns(...)` named (by default the last steps, those no step
   * depends on), by step name; a many's is the list of its jobs' values. A step that recorded
   * none is absent.
   */
  readonly results: Partial<Results>;
  /** The workflow's context as the steps left it. */
  readonly context: JsonObject;
}

/** The state of a workflow as `koban.workflowStatus(id)` reports it. */
export interface WorkflowStatus {
  readonly id: string;
  readonly name: string | null;
  /** `executing` while any step has not finished; then `completed` when all completed, else `failed`. */
  readonly state: 'executing' | 'completed' | 'failed';
  readonly counts: Readonly<Record<JobState, number>>;
  readonly steps: readonly WorkflowStepStatus[];
}

export interface WorkflowStepStatus {
  readonly name: string;
  readonly jobId: string;
  readonly worker: string;
  readonly state: JobState;
  readonly deps: readonly string[];
}

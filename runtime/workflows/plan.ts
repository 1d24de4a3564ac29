import { KobanWorkflowError } from '../../sdk/errors.js';
import { uuidv7 } from '../../sdk/ids.js';
import { isJobSpec } from '../../sdk/job-spec.js';
import {
  checkStepFlags,
  type StepFlags,
  type StepKind,
  type Workflow,
  type WorkflowStep,
} from '../../sdk/workflow.js';
import { joinedBatches } from '../batches/plan.js';
import type { EngineContext } from '../engine/context.js';
import type { InsertPlan, InsertRow } from '../engine/insert.js';
import { prepareJobs } from '../workers/prepare-job.js';
import type { WorkerCatalog } from '../workers/worker-catalog.js';
import type { AppendedStep } from './append.js';
import { edgesWrite, type PlannedEdge, workflowsWrite } from './edges.js';
import { ignoreMask } from './rules.js';
import { existingWorkflow } from './unique.js';

const defaultWaitingDelay = 1000;
const defaultWaitingLimit = 10;

/**
 * Checks a workflow's steps as data, for callers without types (or hand-built objects): every
 * step named once, with a job, and deps that name earlier steps. A dep on a later step is a
 * cycle, or a step that does not exist; the error says which. With `external`, a dep that names
 * no step of the workflow is left for the engine to find among a running workflow's steps.
 */
function checkWorkflowSteps(workflow: Workflow<any, any>, where: string): readonly WorkflowStep[] {
  const steps = workflow.steps as readonly WorkflowStep[];
  if (steps.length === 0) {
    throw new KobanWorkflowError(
      `${where}: the workflow has no steps; add one with .add(name, Worker.new(args))`,
    );
  }
  const position = new Map<string, number>();
  steps.forEach((step, index) => {
    const name = (step as { name?: unknown })?.name;
    if (typeof name !== 'string' || name.trim() === '') {
      throw new KobanWorkflowError(
        `${where}: steps[${index}] has no name: step names are non-empty strings, got ${JSON.stringify(name)}`,
      );
    }
    if (position.has(name)) throw new KobanWorkflowError(`${where}: two steps are named "${name}"`);
    if (!isJobSpec(step.spec)) {
      throw new KobanWorkflowError(`${where}: step "${name}" has no job; build it with MyWorker.new(args)`);
    }
    if (!Array.isArray(step.deps) || step.deps.some((dep) => typeof dep !== 'string')) {
      throw new KobanWorkflowError(`${where}: step "${name}" has deps that are not a list of step names`);
    }
    position.set(name, index);
  });
  for (const [index, step] of steps.entries()) {
    for (const dep of step.deps) {
      const at = position.get(dep);
      if (at === undefined) {
        if (workflow.external) continue;
        throw new KobanWorkflowError(
          `${where}: step "${step.name}" depends on "${dep}", which is not a step of the workflow`,
        );
      }
      if (at >= index) {
        const cycle = cycleThrough(steps, position, step.name);
        throw new KobanWorkflowError(
          cycle
            ? `${where}: dependency cycle: ${cycle.join(' → ')}`
            : `${where}: step "${step.name}" depends on "${dep}", which comes after it; add "${dep}" first`,
        );
      }
    }
  }
  return steps;
}

/** A path of deps that leads from `start` back to itself, if there is one. */
function cycleThrough(
  steps: readonly WorkflowStep[],
  position: Map<string, number>,
  start: string,
): string[] | undefined {
  const depsOf = (name: string) => steps[position.get(name)!]!.deps.filter((dep) => position.has(dep));
  const path: string[] = [];
  const visit = (name: string, seen: Set<string>): boolean => {
    path.push(name);
    if (seen.has(name)) return name === start;
    seen.add(name);
    for (const dep of depsOf(name)) if (visit(dep, seen)) return true;
    path.pop();
    seen.delete(name);
    return false;
  };
  return visit(start, new Set()) ? path : undefined;
}

/** A step's flags over the workflow's, with defaults. */
function resolvedFlags(workflow: StepFlags, step: StepFlags) {
  const flags = { ...checkStepFlags(workflow, 'workflow()'), ...checkStepFlags(step, 'step') };
  return {
    ignore: ignoreMask(flags),
    waitingDelay: flags.waitingDelay ?? defaultWaitingDelay,
    waitingLimit: flags.waitingLimit ?? defaultWaitingLimit,
  };
}

/** Prepared rows of steps: a unique job cannot be a step, since it may stand for another job. */
async function stepRows(
  catalog: WorkerCatalog,
  steps: readonly WorkflowStep[],
  where: string,
): Promise<InsertRow[]> {
  const rows = await prepareJobs(
    catalog,
    steps.map((step) => step.spec),
  );
  rows.forEach((row, index) => {
    if (row.uniqueKey !== null) {
      throw new KobanWorkflowError(
        `${where}: step "${steps[index]!.name}" is a unique job (${row.worker}); a workflow step must be its own job. ` +
          'Build it with { unique: false }',
      );
    }
  });
  return rows;
}

/** Everything `insertAll(workflow)` writes: the workflow, its steps (held when they have deps) and their edges. */
export async function workflowPlan(
  ctx: EngineContext,
  catalog: WorkerCatalog,
  workflow: Workflow<any, any>,
): Promise<InsertPlan> {
  const where = 'insertAll(workflow)';
  const steps = checkWorkflowSteps(workflow, where);
  const id = workflow.options.workflowId ?? uuidv7();
  const prepared = await stepRows(catalog, steps, where);
  const index = new Map(steps.map((step, position) => [step.name, position]));
  const edges: PlannedEdge[] = [];
  const rows = prepared.map((row, position) => {
    const step = steps[position]!;
    const flags = resolvedFlags(workflow.options, step.options);
    for (const dep of step.deps) edges.push({ job: position, dep: index.get(dep)!, depStep: dep, ...flags });
    return { ...row, workflowId: id, workflowStep: step.name, depsRemaining: step.deps.length };
  });
  const batches = await joinedBatches(
    ctx,
    catalog,
    steps.map((step) => step.spec),
    rows,
  );
  return {
    rows,
    before: [
      workflowsWrite(ctx, [
        {
          id,
          name: workflow.options.workflowName ?? null,
          ...(workflow.options.context === undefined ? {} : { context: workflow.options.context }),
          kinds: workflow.kinds ?? {},
          uniqueKey: workflow.options.unique?.key ?? null,
          returns: workflow.options.returns ?? null,
        },
      ]),
    ],
    ...(workflow.options.unique ? { existing: existingWorkflow(ctx, workflow.options.unique) } : {}),
    after: [edgesWrite(ctx, edges), ...batches],
  };
}

/** The steps `appendWorkflow` adds, for the engine to resolve their deps against the running workflow. */
export async function appendedSteps(
  ctx: EngineContext,
  catalog: WorkerCatalog,
  workflow: Workflow<any, any>,
  workflowId: string,
) {
  const where = `appendWorkflow(${workflowId})`;
  const steps = checkWorkflowSteps(workflow, where);
  const rows = await stepRows(catalog, steps, where);
  const appended: AppendedStep[] = steps.map((step, position) => ({
    row: rows[position]!,
    name: step.name,
    deps: step.deps,
    ...resolvedFlags(workflow.options, step.options),
  }));
  return {
    steps: appended,
    kinds: (workflow.kinds ?? {}) as Readonly<Record<string, StepKind>>,
    after: await joinedBatches(
      ctx,
      catalog,
      steps.map((step) => step.spec),
      rows,
    ),
  };
}

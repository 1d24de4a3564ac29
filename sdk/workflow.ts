import { KobanConfigError } from './errors.js';
import { isJobSpec, type JobSpec } from './job-spec.js';

/** One job of a workflow: its step name, the job, and the steps it waits for. */
export interface WorkflowStep<Spec extends JobSpec = JobSpec> {
  readonly name: string;
  readonly spec: Spec;
  readonly deps: readonly string[];
}

export interface WorkflowOptions {
  /** Run a step whose dep was cancelled. Default false: the step is cancelled too. */
  readonly ignoreCancelled?: boolean;
  /** Run a step whose dep was discarded. Default false: the step is cancelled. */
  readonly ignoreDiscarded?: boolean;
}

export interface StepOptions<Known extends string> {
  /** Steps added earlier that must complete before this one runs. */
  readonly deps?: readonly Known[];
}

/** What the compiler says when a step name is used twice. */
export type StepNameTaken<Name extends string> =
  `step "${Name}" is already in this workflow; give each step its own name`;

/**
 * An immutable workflow under construction. Each `add` returns a new workflow whose type knows
 * the steps so far, so the compiler rejects a repeated step name and a dep on a step not added
 * before. Insert it with `koban.insertAll(workflow)`; it gets an id only then.
 */
export interface Workflow<Steps extends Record<string, JobSpec> = {}> {
  readonly kind: 'workflow';
  readonly options: WorkflowOptions;
  /** The steps in the order they were added; deps always name earlier steps. */
  readonly steps: readonly WorkflowStep[];
  add<Name extends string, Spec extends JobSpec>(
    name: Name extends keyof Steps ? StepNameTaken<Name> : Name,
    spec: Spec,
    options?: StepOptions<keyof Steps & string>,
  ): Workflow<Steps & { readonly [Key in Name]: Spec }>;
}

/** The steps of a workflow type by name, with each step's job spec (and so its args and result types). */
export type WorkflowSteps<W> = W extends Workflow<infer Steps> ? Steps : never;

function checkStep(
  steps: readonly WorkflowStep[],
  name: unknown,
  spec: unknown,
  deps: unknown,
): readonly string[] {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new KobanConfigError(
      `workflow.add: the step name must be a non-empty string, got ${JSON.stringify(name)}`,
    );
  }
  const where = `workflow.add('${name}')`;
  if (steps.some((step) => step.name === name)) {
    throw new KobanConfigError(
      `${where}: a step named "${name}" was already added; give each step its own name`,
    );
  }
  if (!isJobSpec(spec)) {
    throw new KobanConfigError(`${where}: expected a job from MyWorker.new(args), got ${String(spec)}`);
  }
  if (deps === undefined) return [];
  if (!Array.isArray(deps) || deps.some((dep) => typeof dep !== 'string')) {
    throw new KobanConfigError(`${where}: deps must be a list of step names, got ${JSON.stringify(deps)}`);
  }
  const unknown = deps.filter((dep) => !steps.some((step) => step.name === dep));
  if (unknown.length > 0) {
    const known = steps.map((step) => step.name).join(', ') || 'none yet';
    throw new KobanConfigError(
      `${where}: deps name steps not added before it: ${unknown.join(', ')} (added: ${known}). Add those steps first`,
    );
  }
  return [...new Set(deps as string[])];
}

/** The run-time side of Workflow: the same data, without the compile-time step types. */
interface WorkflowData {
  readonly kind: 'workflow';
  readonly options: WorkflowOptions;
  readonly steps: readonly WorkflowStep[];
  add(name: string, spec: JobSpec, options?: StepOptions<string>): WorkflowData;
}

function build(options: WorkflowOptions, steps: readonly WorkflowStep[]): WorkflowData {
  return Object.freeze({
    kind: 'workflow' as const,
    options,
    steps,
    add(name: string, spec: JobSpec, stepOptions?: StepOptions<string>) {
      const deps = checkStep(steps, name, spec, stepOptions?.deps);
      const step: WorkflowStep = Object.freeze({ name, spec, deps: Object.freeze(deps) });
      return build(options, Object.freeze([...steps, step]));
    },
  });
}

/** Starts an empty workflow: `workflow().add('extract', ExtractWorker.new({ dataId: 1 }))`. */
export function workflow(options: WorkflowOptions = {}): Workflow {
  // Step names and specs are tracked in the type only; the data is the same at every step.
  return build(Object.freeze({ ...options }), Object.freeze([])) as unknown as Workflow;
}

export function isWorkflow(value: unknown): value is Workflow<Record<string, JobSpec>> {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Workflow).kind === 'workflow' &&
    Array.isArray((value as Workflow).steps)
  );
}

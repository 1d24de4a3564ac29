import { type Cascade, type CascadeArgs, isCascade, KobanCascade } from './cascade.js';
import { KobanWorkflowError } from './errors.js';
import { checkUuid } from './ids.js';
import type { JsonObject } from './job.js';
import { isJobSpec, type JobSpec, newJob } from './job-spec.js';
import { StepLog } from './step-log.js';

/** How a step treats deps that did not complete, and how the sweeper treats it. */
export interface StepFlags {
  /** Run the step when a dep was cancelled, as if it had completed. Default false: the step is cancelled. */
  readonly ignoreCancelled?: boolean;
  /** Run the step when a dep was discarded (out of attempts). Default false: the step is cancelled. */
  readonly ignoreDiscarded?: boolean;
  /** Run the step when a dep was deleted before it finished. Default false: the step is cancelled. */
  readonly ignoreDeleted?: boolean;
  /**
   * Milliseconds the sweeper waits, once all of a held step's deps have finished, before it
   * releases or cancels the step itself. Koban releases steps in the transaction that finishes
   * their last dep, so this only tunes the safety net. Default 1000.
   */
  readonly waitingDelay?: number;
  /** Sweeps that may find a step unresolvable (a dep deleted) before the step is cancelled. Default 10. */
  readonly waitingLimit?: number;
}

export interface WorkflowOptions extends StepFlags {
  /** The workflow's id: a UUID. Default a new UUIDv7. */
  readonly workflowId?: string;
  /** A name for people: shown by `workflowStatus` and `job.workflow.name`. */
  readonly workflowName?: string;
  /** JSON every step reads with `job.workflow.getContext()` and may extend with `putContext`. */
  readonly context?: JsonObject;
  /**
   * Insert the workflow once per `key`: while a workflow inserted with the same key less than
   * `period` seconds ago exists (default `'infinity'`: for as long as it is kept), inserting
   * another returns that one's jobs, with `conflict: true`, and writes nothing.
   */
  readonly unique?: WorkflowUnique;
  /** The steps whose recorded values are the workflow's result; set with `.returns(...steps)`. */
  readonly returns?: readonly string[];
}

export interface WorkflowUnique {
  readonly key: string;
  readonly period?: number | 'infinity';
}

export interface StepOptions<Known extends string> extends StepFlags {
  /** Steps (or sub-workflows) that must finish before this one runs. */
  readonly deps?: readonly Known[];
}

/** One job of a workflow: its step name, the job, the steps it waits for, and its own flags. */
export interface WorkflowStep<Spec extends JobSpec = JobSpec> {
  readonly name: string;
  readonly spec: Spec;
  /** Step names; a dep on a sub-workflow is a dep on each of its steps. */
  readonly deps: readonly string[];
  readonly options: StepFlags;
}

/** What the compiler says when a step name is used twice. */
export type StepNameTaken<Name extends string> =
  `step "${Name}" is already in this workflow; give each step its own name`;

/**
 * A step name the compiler accepts: one not taken yet. A workflow built in a loop has no known
 * names (its steps are a `Record<string, …>`), so only the run-time check applies to it.
 */
type NewStepName<Steps, Name extends string> = string extends keyof Steps
  ? Name
  : Name extends keyof Steps
    ? StepNameTaken<Name>
    : Name;

/**
 * What a step added with `addMany` stands for in a workflow's type: many jobs under one name,
 * whose result is the list of their results.
 */
export interface ManySteps<Spec extends JobSpec = JobSpec> {
  readonly kind: 'many';
  readonly spec: Spec;
}

/** What a step added with `addGraft` stands for in a workflow's type: its job and what it grafts. */
export interface GraftStep<Spec extends JobSpec = JobSpec> {
  readonly kind: 'graft';
  readonly spec: Spec;
}

/** The named parts of a workflow that are not plain steps: a many's members, a graft's growth. */
export type StepKind = 'many' | 'graft';

type Qualified<Name extends string, Sub> = {
  readonly [Key in keyof Sub & string as `${Name}.${Key}`]: Sub[Key];
};

/**
 * An immutable workflow under construction. Each `add` returns a new workflow whose type knows
 * the steps so far, so the compiler rejects a repeated step name and a dep on a step not added
 * before. `External` names steps that exist outside the builder: the steps of a running
 * workflow, when appending. Insert it with `koban.insertAll(workflow)`.
 */
export interface Workflow<Steps extends Record<string, unknown> = {}, External extends string = never> {
  readonly kind: 'workflow';
  readonly options: WorkflowOptions;
  /** The steps in the order they were added; deps always name earlier steps (or external ones). */
  readonly steps: readonly WorkflowStep[];
  /** Each sub-workflow's name, with the names of its steps. */
  readonly groups: Readonly<Record<string, readonly string[]>>;
  /** Whether deps may name steps outside this builder (a workflow being appended to). */
  readonly external: boolean;
  /** The names added with `addMany` and `addGraft`, with which of the two each is. */
  readonly kinds: Readonly<Record<string, StepKind>>;
  add<Name extends string, Spec extends JobSpec>(
    name: NewStepName<Steps, Name>,
    spec: Spec,
    options?: StepOptions<(keyof Steps & string) | External>,
  ): Workflow<Steps & { readonly [Key in Name]: Spec }, External>;
  /**
   * Adds a cascade: a step that runs `cascade`'s function with the workflow's context and its
   * deps' recorded results, typed by the deps' workers (the compiler checks them against what the
   * function declares), and records what it returns.
   */
  addCascade<Name extends string, Deps extends keyof Steps & string, Result>(
    name: NewStepName<Steps, Name>,
    cascade: Cascade<{ readonly [Key in Deps]: StepResult<Steps[Key]> }, any, Result>,
    options: StepFlags & { readonly deps: readonly Deps[] },
  ): Workflow<Steps & { readonly [Key in Name]: JobSpec<CascadeArgs, Result> }, External>;
  /**
   * Adds many jobs as one step: they run in parallel as steps `name.0`, `name.1`, …, wait for
   * `deps`, and a later step that depends on `name` waits for all of them. The many's result is
   * the list of its jobs' recorded values, in the order given (`getRecorded(name)`, a cascade's
   * `deps[name]`). The list may not be empty: a step that depends on nothing needs no many.
   */
  addMany<Name extends string, Spec extends JobSpec>(
    name: NewStepName<Steps, Name>,
    specs: readonly Spec[],
    options?: StepOptions<(keyof Steps & string) | External>,
  ): Workflow<Steps & { readonly [Key in Name]: ManySteps<Spec> }, External>;
  /**
   * Adds a graft: a step whose job, when it runs, may grow the workflow with
   * `job.workflow.graft((wf) => wf.add(…))`. The grafted steps are named `name.step`, and the
   * steps that depend on `name` wait for them too, not only for the graft's own job.
   */
  addGraft<Name extends string, Spec extends JobSpec>(
    name: NewStepName<Steps, Name>,
    spec: Spec,
    options?: StepOptions<(keyof Steps & string) | External>,
  ): Workflow<Steps & { readonly [Key in Name]: GraftStep<Spec> }, External>;
  /**
   * Adds a whole workflow as one part of this one. Its steps are named `name.step`, its own
   * deps stay inside it, and its first steps wait for `deps`. Later steps may depend on `name`,
   * which means every step of the sub-workflow.
   */
  addWorkflow<Name extends string, Sub extends Record<string, unknown>>(
    name: NewStepName<Steps, Name>,
    workflow: Workflow<Sub>,
    options?: StepOptions<(keyof Steps & string) | External>,
  ): Workflow<Steps & { readonly [Key in Name]: Workflow<Sub> } & Qualified<Name, Sub>, External>;
  /**
   * Names the steps (or manys) whose recorded values are the workflow's result, read by
   * `koban.workflowResult(id)` and `awaitWorkflow`. Without it, the result is the values of the
   * last steps: those no step depends on.
   */
  returns(...steps: readonly (keyof Steps & string)[]): Workflow<Steps, External>;
}

/** The results of a workflow type's steps by name, as `awaitWorkflow<WorkflowResults<typeof flow>>(id)` types them. */
export type WorkflowResults<W> = {
  readonly [Key in keyof WorkflowSteps<W> & string]: StepResult<WorkflowSteps<W>[Key]>;
};

/** The result type of a step (what its worker or cascade returns; for a many, the list of its jobs' results). */
export type StepResult<Step> =
  Step extends ManySteps<infer Spec>
    ? (StepResult<Spec> | undefined)[]
    : Step extends JobSpec<any, infer Result>
      ? Result
      : unknown;

/** The steps of a workflow type by name, with each step's job spec (and so its args and result types). */
export type WorkflowSteps<W> = W extends Workflow<infer Steps, any> ? Steps : never;

const flagNames = ['ignoreCancelled', 'ignoreDiscarded', 'ignoreDeleted'] as const;
const countNames = ['waitingDelay', 'waitingLimit'] as const;

/** Checks the flags a workflow or a step sets, and returns only those set. */
export function checkStepFlags(value: StepFlags | undefined, where: string): StepFlags {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null) {
    throw new KobanWorkflowError(`${where}: options must be an object, got ${JSON.stringify(value)}`);
  }
  const flags: Record<string, unknown> = {};
  for (const name of flagNames) {
    const flag = value[name];
    if (flag === undefined) continue;
    if (typeof flag !== 'boolean') {
      throw new KobanWorkflowError(`${where}: ${name} must be true or false, got ${JSON.stringify(flag)}`);
    }
    flags[name] = flag;
  }
  for (const name of countNames) {
    const count = value[name];
    if (count === undefined) continue;
    if (!Number.isInteger(count) || count < 0 || count > 2_147_483_647) {
      throw new KobanWorkflowError(
        `${where}: ${name} must be a whole number of at least 0${name === 'waitingDelay' ? ' (milliseconds)' : ''}, got ${JSON.stringify(count)}`,
      );
    }
    flags[name] = count;
  }
  return flags as StepFlags;
}

function checkOptions(options: WorkflowOptions): WorkflowOptions {
  const flags = checkStepFlags(options, 'workflow()');
  const { workflowId, workflowName, context, unique } = options;
  if (context !== undefined && (typeof context !== 'object' || context === null || Array.isArray(context))) {
    throw new KobanWorkflowError(`workflow(): context must be a JSON object, got ${JSON.stringify(context)}`);
  }
  if (workflowName !== undefined && (typeof workflowName !== 'string' || workflowName.trim() === '')) {
    throw new KobanWorkflowError(
      `workflow(): workflowName must be a non-empty string, got ${JSON.stringify(workflowName)}`,
    );
  }
  return Object.freeze({
    ...flags,
    ...(workflowId === undefined
      ? {}
      : { workflowId: checkUuid(workflowId, 'workflowId', 'workflow()', 'workflow') }),
    ...(workflowName === undefined ? {} : { workflowName }),
    ...(context === undefined ? {} : { context }),
    ...(unique === undefined ? {} : { unique: checkUnique(unique) }),
  });
}

function checkUnique(unique: WorkflowUnique): WorkflowUnique {
  if (typeof unique !== 'object' || unique === null) {
    throw new KobanWorkflowError(
      `workflow(): unique must be an object like { key: 'import-42', period: 3600 }, got ${JSON.stringify(unique)}`,
    );
  }
  const { key, period } = unique;
  if (typeof key !== 'string' || key.trim() === '' || key.length > 1000) {
    throw new KobanWorkflowError(
      `workflow(): unique.key must be a non-empty string of at most 1000 characters, got ${JSON.stringify(key)}`,
    );
  }
  if (
    period !== undefined &&
    period !== 'infinity' &&
    !(typeof period === 'number' && Number.isFinite(period) && period > 0)
  ) {
    throw new KobanWorkflowError(
      `workflow(): unique.period must be a positive number of seconds or 'infinity', got ${JSON.stringify(period)}`,
    );
  }
  return Object.freeze({ key, ...(period === undefined ? {} : { period }) });
}

/** The run-time side of Workflow: the same data, without the compile-time step types. */
interface WorkflowData {
  readonly kind: 'workflow';
  readonly options: WorkflowOptions;
  readonly steps: readonly WorkflowStep[];
  readonly groups: Readonly<Record<string, readonly string[]>>;
  readonly external: boolean;
  readonly kinds: Readonly<Record<string, StepKind>>;
  add(name: string, spec: JobSpec, options?: StepOptions<string>): WorkflowData;
  addMany(name: string, specs: readonly JobSpec[], options?: StepOptions<string>): WorkflowData;
  addGraft(name: string, spec: JobSpec, options?: StepOptions<string>): WorkflowData;
  addWorkflow(name: string, workflow: WorkflowData, options?: StepOptions<string>): WorkflowData;
  addCascade(name: string, cascade: Cascade, options: StepOptions<string>): WorkflowData;
  returns(...steps: readonly string[]): WorkflowData;
}

function build(
  options: WorkflowOptions,
  log: StepLog,
  length: number,
  groups: Readonly<Record<string, readonly string[]>>,
  external: boolean,
  kinds: Readonly<Record<string, StepKind>> = Object.freeze({}),
): WorkflowData {
  let steps: readonly WorkflowStep[] | undefined;
  const has = (name: string) => log.has(name, length);

  /** Checks a new step or sub-workflow name against those already taken. */
  const checkName = (name: unknown, where: string): string => {
    if (typeof name !== 'string' || name.trim() === '') {
      throw new KobanWorkflowError(
        `${where}: the step name must be a non-empty string, got ${JSON.stringify(name)}`,
      );
    }
    if (name.includes('.') || name.length > 200) {
      throw new KobanWorkflowError(
        `${where}: step names may not contain '.' (it joins sub-workflow and step names) and have at most 200 characters`,
      );
    }
    if (has(name) || name in groups) {
      throw new KobanWorkflowError(
        `${where}: a step named "${name}" was already added; give each step its own name`,
      );
    }
    return name;
  };

  /** The step names a list of deps means: a sub-workflow's name stands for all of its steps. */
  const resolveDeps = (deps: unknown, where: string): string[] => {
    if (deps === undefined) return [];
    if (!Array.isArray(deps) || deps.some((dep) => typeof dep !== 'string')) {
      throw new KobanWorkflowError(
        `${where}: deps must be a list of step names, got ${JSON.stringify(deps)}`,
      );
    }
    const resolved = new Set<string>();
    const unknown: string[] = [];
    for (const dep of deps as string[]) {
      const group = groups[dep];
      if (group) for (const step of group) resolved.add(step);
      else if (has(dep) || external) resolved.add(dep);
      else unknown.push(dep);
    }
    if (unknown.length > 0) {
      const known = [...log.names(length), ...Object.keys(groups)].join(', ') || 'none yet';
      throw new KobanWorkflowError(
        `${where}: deps name steps not added before it: ${unknown.join(', ')} (added: ${known}). Add those steps first`,
      );
    }
    return [...resolved];
  };

  /** One step more, with the kinds the new builder has. */
  const addStep = (
    name: string,
    spec: JobSpec,
    stepOptions: StepOptions<string> | undefined,
    method: string,
    withKinds: Readonly<Record<string, StepKind>>,
  ) => {
    const where = `workflow.${method}(${JSON.stringify(name)})`;
    checkName(name, where);
    if (!isJobSpec(spec)) {
      throw new KobanWorkflowError(`${where}: expected a job from MyWorker.new(args), got ${String(spec)}`);
    }
    const deps = resolveDeps(stepOptions?.deps, where);
    const step: WorkflowStep = Object.freeze({
      name,
      spec,
      deps: Object.freeze(deps),
      options: checkStepFlags(stepOptions, where),
    });
    return build(options, log.extend(length, [step]), length + 1, groups, external, withKinds);
  };

  return Object.freeze({
    kind: 'workflow' as const,
    options,
    get steps() {
      steps ??= log.slice(length);
      return steps;
    },
    groups,
    external,
    kinds,
    add(name: string, spec: JobSpec, stepOptions?: StepOptions<string>) {
      return addStep(name, spec, stepOptions, 'add', kinds);
    },
    addMany(name: string, specs: readonly JobSpec[], stepOptions?: StepOptions<string>) {
      const where = `workflow.addMany(${JSON.stringify(name)})`;
      checkName(name, where);
      if (!Array.isArray(specs) || specs.length === 0) {
        throw new KobanWorkflowError(
          `${where}: expected a non-empty list of jobs from MyWorker.new(args), got ${Array.isArray(specs) ? 'an empty list' : String(specs)}`,
        );
      }
      const deps = Object.freeze(resolveDeps(stepOptions?.deps, where));
      const flags = checkStepFlags(stepOptions, where);
      const added = specs.map((spec, index) => {
        if (!isJobSpec(spec)) {
          throw new KobanWorkflowError(
            `${where}: jobs[${index}] is not a job from MyWorker.new(args), got ${String(spec)}`,
          );
        }
        return Object.freeze({ name: `${name}.${index}`, spec, deps, options: flags });
      });
      return build(
        options,
        log.extend(length, added),
        length + added.length,
        Object.freeze({ ...groups, [name]: Object.freeze(added.map((step) => step.name)) }),
        external,
        Object.freeze({ ...kinds, [name]: 'many' as const }),
      );
    },
    addGraft(name: string, spec: JobSpec, stepOptions?: StepOptions<string>) {
      return addStep(
        name,
        spec,
        stepOptions,
        'addGraft',
        Object.freeze({ ...kinds, [name]: 'graft' as const }),
      );
    },
    returns(...names: readonly string[]) {
      const where = 'workflow.returns()';
      if (names.length === 0) throw new KobanWorkflowError(`${where}: name at least one step`);
      for (const name of names) {
        const known = typeof name === 'string' && (has(name) || kinds[name] === 'many');
        if (!known) {
          const why = typeof name === 'string' && name in groups ? ' (a sub-workflow: name its steps)' : '';
          throw new KobanWorkflowError(
            `${where}: ${JSON.stringify(name)} is not a step or a many of the workflow${why}; add it first`,
          );
        }
      }
      const withReturns = Object.freeze({ ...options, returns: Object.freeze([...new Set(names)]) });
      return build(withReturns, log, length, groups, external, kinds);
    },
    addCascade(name: string, cascade: Cascade, stepOptions: StepOptions<string>) {
      if (!isCascade(cascade)) {
        throw new KobanWorkflowError(
          `workflow.addCascade(${JSON.stringify(name)}): expected a cascade(name, fn), got ${String(cascade)}`,
        );
      }
      const job = newJob(
        KobanCascade,
        { cascade: cascade.name },
        {
          ...(cascade.queue ? { queue: cascade.queue } : {}),
          ...(cascade.maxAttempts ? { maxAttempts: cascade.maxAttempts } : {}),
        },
      );
      return this.add(name, job, stepOptions);
    },
    addWorkflow(name: string, sub: WorkflowData, stepOptions?: StepOptions<string>) {
      const where = `workflow.addWorkflow(${JSON.stringify(name)})`;
      checkName(name, where);
      if (!isWorkflow(sub) || sub.steps.length === 0) {
        throw new KobanWorkflowError(`${where}: expected a workflow() with at least one step`);
      }
      const deps = resolveDeps(stepOptions?.deps, where);
      const flags = { ...checkStepFlags(sub.options, where), ...checkStepFlags(stepOptions, where) };
      const prefixed = (step: string) => `${name}.${step}`;
      const added = sub.steps.map((step) =>
        Object.freeze({
          name: prefixed(step.name),
          spec: step.spec,
          deps: Object.freeze(step.deps.length === 0 ? deps : step.deps.map(prefixed)),
          options: Object.freeze({ ...flags, ...step.options }),
        }),
      );
      const nested = Object.entries(sub.groups).map(([group, members]) => [
        prefixed(group),
        Object.freeze(members.map(prefixed)),
      ]);
      const nestedKinds = Object.entries(sub.kinds ?? {}).map(([group, kind]) => [prefixed(group), kind]);
      return build(
        options,
        log.extend(length, added),
        length + added.length,
        Object.freeze({
          ...groups,
          ...Object.fromEntries(nested),
          [name]: Object.freeze(added.map((step) => step.name)),
        }),
        external,
        Object.freeze({ ...kinds, ...Object.fromEntries(nestedKinds) }),
      );
    },
  });
}

/** Starts an empty workflow: `workflow().add('extract', ExtractWorker.new({ dataId: 1 }))`. */
export function workflow(options: WorkflowOptions = {}): Workflow {
  // Step names and specs are tracked in the type only; the data is the same at every step.
  return build(checkOptions(options), new StepLog(), 0, Object.freeze({}), false) as unknown as Workflow;
}

/** The builder `appendWorkflow` hands out: deps may name the running workflow's steps. */
export function appendingWorkflow(): Workflow<{}, string> {
  return build(Object.freeze({}), new StepLog(), 0, Object.freeze({}), true) as unknown as Workflow<
    {},
    string
  >;
}

export function isWorkflow(value: unknown): value is Workflow<Record<string, unknown>, any> {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Workflow).kind === 'workflow' &&
    Array.isArray((value as Workflow).steps)
  );
}

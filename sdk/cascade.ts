import { KobanConfigError, KobanWorkflowError } from './errors.js';
import type { Job, JsonObject } from './job.js';
import { defineWorker, defineWorkerFeature } from './registry.js';
import { checkMaxAttempts, checkQueueName } from './worker-options.js';

/** What a cascade's function is given: the workflow's context and its deps' recorded results. */
export interface CascadeInput<Deps, Context> {
  readonly context: Context;
  /** Each dep's recorded value, by step name (a dep that recorded nothing is undefined). */
  readonly deps: Deps;
  /** The step's job: its workflow, attempt and signal. */
  readonly job: Job<CascadeArgs>;
}

/**
 * A workflow step that is a plain function of the workflow's context and its deps' results
 * (Oban Pro's `add_cascade`), made with `cascade(name, fn)` and added with
 * `workflow().addCascade(step, it, { deps })`. The compiler checks the deps' result types
 * against what the function declares. What it returns is recorded, for later steps and
 * `awaitWorkflow`.
 */
export interface Cascade<Deps = any, Context = any, Result = unknown> {
  readonly kind: 'cascade';
  readonly name: string;
  /** The queue its steps run in. Default `default`. */
  readonly queue: string | undefined;
  /** Attempts of each of its steps. Default 3. */
  readonly maxAttempts: number | undefined;
  readonly run: (input: CascadeInput<Deps, Context>) => Result | Promise<Result>;
}

/** The args of a cascade step's job: which cascade to run. */
export interface CascadeArgs {
  readonly cascade: string;
}

const cascades = new Map<string, Cascade>();

/**
 * Defines a cascade under a name unique in the process; every node that runs its steps must
 * define it (import the module that calls `cascade`), as for a worker class.
 */
export function cascade<Deps = Record<string, unknown>, Context = JsonObject, Result = unknown>(
  name: string,
  run: (input: CascadeInput<Deps, Context>) => Result | Promise<Result>,
  options: { readonly queue?: string; readonly maxAttempts?: number } = {},
): Cascade<Deps, Context, Awaited<Result>> {
  const where = `cascade(${JSON.stringify(name)})`;
  if (typeof name !== 'string' || name.trim() === '') {
    throw new KobanConfigError(`cascade(): the name must be a non-empty string, got ${JSON.stringify(name)}`);
  }
  if (typeof run !== 'function')
    throw new KobanConfigError(`${where}: expected a function, got ${String(run)}`);
  const queue = options.queue === undefined ? undefined : checkQueueName(options.queue, where);
  const maxAttempts =
    options.maxAttempts === undefined ? undefined : checkMaxAttempts(options.maxAttempts, where);
  const existing = cascades.get(name);
  if (existing && existing.run !== run) {
    throw new KobanConfigError(`${where}: a different cascade is already defined under this name`);
  }
  const defined: Cascade<Deps, Context, Awaited<Result>> = Object.freeze({
    kind: 'cascade' as const,
    name,
    queue,
    maxAttempts,
    run: run as Cascade<Deps, Context, Awaited<Result>>['run'],
  });
  cascades.set(name, defined as Cascade);
  return defined;
}

export function isCascade(value: unknown): value is Cascade {
  return typeof value === 'object' && value !== null && (value as Cascade).kind === 'cascade';
}

/**
 * The worker every cascade step runs as: it finds the cascade by name, reads the context and the
 * deps' recorded values, and records what the function returns. A node that runs `default` (or
 * the cascade's queue) and defines the cascade runs it; one that does not define it fails the
 * attempt, so a node that does can run the retry.
 */
export class KobanCascade {
  async process(job: Job<CascadeArgs>): Promise<unknown> {
    const flow = job.workflow;
    if (!flow)
      throw new KobanWorkflowError(`cascade ${job.args.cascade} ran outside a workflow (job ${job.id})`);
    const defined = cascades.get(job.args.cascade);
    if (!defined) {
      throw new KobanWorkflowError(
        `no cascade named "${job.args.cascade}" is defined in this process: import the module that defines it`,
      );
    }
    // A dep that recorded nothing reads as undefined, whether its key is there or not; a dep on a
    // many is there as the list of its jobs' values, under the many's name.
    const [context, recorded] = await Promise.all([flow.getContext(), flow.allRecorded({ onlyDeps: true })]);
    const values: Record<string, unknown> = { ...recorded };
    const prefix = flow.step.includes('.') ? flow.step.slice(0, flow.step.lastIndexOf('.') + 1) : '';
    // Inside a sub-workflow, deps are also given by their names there.
    if (prefix) {
      for (const [step, value] of Object.entries(recorded))
        if (step.startsWith(prefix)) values[step.slice(prefix.length)] = value;
    }
    return defined.run({ context, deps: values, job });
  }
}
defineWorker(KobanCascade, { name: 'koban.cascade', maxAttempts: 3 });
defineWorkerFeature(KobanCascade, { recorded: true }, 'Recorded');

import { KobanConfigError } from './errors.js';
import type { Job } from './job.js';
import { defineWorker } from './registry.js';
import type { ProcessResult, WorkerClass, WorkerInstance } from './worker.js';
import type { WorkerOptions } from './worker-options.js';

/**
 * A worker from a function, for a job that needs no class: `const sendEmail =
 * workerFunction('SendEmail', async (job: Job<{ to: string }>) => { ... }, { queue: 'mail' })`.
 * It returns a worker class like any other (insert `newJob(sendEmail, { to })`, list it in
 * `workers`); `name` is the stored name, so keep it when renaming the variable.
 */
export function workerFunction<Args, Result>(
  name: string,
  process: (job: Job<Args>) => ProcessResult<Result>,
  options: Omit<WorkerOptions<Args>, 'name' | 'chunk'> & WorkerHooks<Args> = {},
): WorkerClass<Args, Result> & { new (): { process(job: Job<Args>): ProcessResult<Result> } } {
  const where = `workerFunction(${JSON.stringify(name)})`;
  if (typeof process !== 'function') {
    throw new KobanConfigError(`${where}: expected a function, got ${String(process)}`);
  }
  if ('chunk' in options) {
    throw new KobanConfigError(
      `${where}: a chunk worker's process takes a list of jobs; write it as a class with @Worker({ chunk })`,
    );
  }
  const { onTimeout, beforeProcess, afterProcess, beforeNew, ...workerOptions } = options;
  const hooks = { onTimeout, beforeProcess, afterProcess, beforeNew };
  for (const [hook, value] of Object.entries(hooks)) {
    if (value !== undefined && typeof value !== 'function') {
      throw new KobanConfigError(`${where}: ${hook} must be a function, got ${String(value)}`);
    }
  }
  const worker = class {
    process(job: Job<Args>): ProcessResult<Result> {
      return process(job);
    }
  };
  for (const [hook, value] of Object.entries({ onTimeout, beforeProcess, afterProcess })) {
    if (value) Object.defineProperty(worker.prototype, hook, { value });
  }
  if (beforeNew) Object.defineProperty(worker, 'beforeNew', { value: beforeNew });
  Object.defineProperty(worker, 'name', { value: name });
  return defineWorker(worker as never, { ...(workerOptions as WorkerOptions), name }) as never;
}

/** The hooks a class worker has as methods (and `beforeNew` as a static one), given to `workerFunction` as options. */
export type WorkerHooks<Args> = Pick<WorkerInstance<Args>, 'onTimeout' | 'beforeProcess' | 'afterProcess'> &
  Pick<WorkerClass<Args>, 'beforeNew'>;

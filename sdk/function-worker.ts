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
  options: Omit<WorkerOptions<Args>, 'name'> & WorkerHooks<Args> = {},
): WorkerClass<Args, Result> & { new (): { process(job: Job<Args>): ProcessResult<Result> } } {
  const where = `workerFunction(${JSON.stringify(name)})`;
  if (typeof process !== 'function') {
    throw new KobanConfigError(`${where}: expected a function, got ${String(process)}`);
  }
  const { onTimeout, ...workerOptions } = options;
  if (onTimeout !== undefined && typeof onTimeout !== 'function') {
    throw new KobanConfigError(`${where}: onTimeout must be a function, got ${String(onTimeout)}`);
  }
  const worker = class {
    process(job: Job<Args>): ProcessResult<Result> {
      return process(job);
    }
  };
  if (onTimeout) Object.defineProperty(worker.prototype, 'onTimeout', { value: onTimeout });
  Object.defineProperty(worker, 'name', { value: name });
  return defineWorker(worker as never, { ...(workerOptions as WorkerOptions), name }) as never;
}

/** The hooks a class worker has as methods, given to `workerFunction` as options. */
export type WorkerHooks<Args> = Pick<WorkerInstance<Args>, 'onTimeout'>;

import { KobanConfigError } from './errors.js';
import type { Job } from './job.js';
import { defineWorker } from './registry.js';
import type { ProcessResult, WorkerClass } from './worker.js';
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
  options: Omit<WorkerOptions<Args>, 'name'> = {},
): WorkerClass<Args, Result> & { new (): { process(job: Job<Args>): ProcessResult<Result> } } {
  const worker = class {
    process(job: Job<Args>): ProcessResult<Result> {
      return process(job);
    }
  };
  if (typeof process !== 'function') {
    throw new KobanConfigError(
      `workerFunction(${JSON.stringify(name)}): expected a function, got ${String(process)}`,
    );
  }
  Object.defineProperty(worker, 'name', { value: name });
  return defineWorker(worker as never, { ...(options as WorkerOptions), name }) as never;
}

import type { Codec } from './codec.js';
import type { JobOptions, JobSpec } from './job-spec.js';
import type { ArgsOf, ResultOf, WorkerClass } from './worker.js';

/**
 * What `npx gen` exports for each worker class, under the class's name:
 * `ImportWorker.new({ importId: 1 })` checks the args and returns a job spec typed from the class.
 */
export interface JobBuilder<W extends WorkerClass> {
  /** The worker class itself. */
  readonly worker: W;
  /** The generated validation and JSON conversion of the worker's args. */
  readonly codec: Codec<ArgsOf<W>>;
  /** Builds a job for `koban.insert` or a workflow; throws KobanValidationError listing every bad arg. */
  // Quoted: a bare `new (…)` in an interface would declare a constructor instead of a method.
  'new'(args: ArgsOf<W>, options?: JobOptions<ArgsOf<W>>): JobSpec<ArgsOf<W>, ResultOf<W>>;
}

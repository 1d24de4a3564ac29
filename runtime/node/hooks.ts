import type { Job } from '../../sdk/job.js';
import type { ProcessOutcome } from '../../sdk/worker.js';

export type BeforeProcessHook = (job: Job<unknown>) => void | Promise<void>;
export type AfterProcessHook = (job: Job<unknown>, outcome: ProcessOutcome) => void | Promise<void>;

/** `koban.hooks`: functions run around every attempt of every worker on this node. */
export interface KobanHooks {
  /** Runs before each attempt, before the worker's own `beforeProcess`. Returns an unsubscribe function. */
  beforeProcess(hook: BeforeProcessHook): () => void;
  /** Runs after each attempt, after the worker's own `afterProcess`. Returns an unsubscribe function. */
  afterProcess(hook: AfterProcessHook): () => void;
}

/**
 * The global hook registry. Hooks observe: an error thrown in one is passed to `report` (which
 * logs it and emits an `error` event) and the attempt's outcome stays what it was.
 */
export class ProcessHooks implements KobanHooks {
  private readonly before = new Set<BeforeProcessHook>();
  private readonly after = new Set<AfterProcessHook>();

  beforeProcess(hook: BeforeProcessHook): () => void {
    this.before.add(hook);
    return () => this.before.delete(hook);
  }

  afterProcess(hook: AfterProcessHook): () => void {
    this.after.add(hook);
    return () => this.after.delete(hook);
  }

  /** Checked before calling runBefore/runAfter, so jobs pay nothing while no hook is set. */
  get hasBefore(): boolean {
    return this.before.size > 0;
  }

  get hasAfter(): boolean {
    return this.after.size > 0;
  }

  async runBefore(job: Job<unknown>, report: (hook: string, error: unknown) => void): Promise<void> {
    for (const hook of this.before) {
      try {
        await hook(job);
      } catch (error) {
        report('koban.hooks.beforeProcess', error);
      }
    }
  }

  async runAfter(
    job: Job<unknown>,
    outcome: ProcessOutcome,
    report: (hook: string, error: unknown) => void,
  ): Promise<void> {
    for (const hook of this.after) {
      try {
        await hook(job, outcome);
      } catch (error) {
        report('koban.hooks.afterProcess', error);
      }
    }
  }
}

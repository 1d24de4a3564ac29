import type { Job } from '../../sdk/job.js';
import type { BeforeProcessResult, ProcessOutcome } from '../../sdk/worker.js';

/** Runs before each attempt; it may change the args `process` gets, or stop the attempt (see `beforeProcess`). */
export type BeforeProcessHook = (
  job: Job<unknown>,
) => BeforeProcessResult<unknown> | Promise<BeforeProcessResult<unknown>>;
export type AfterProcessHook = (job: Job<unknown>, outcome: ProcessOutcome) => void | Promise<void>;

/** `koban.hooks`: functions run around every attempt of every worker on this node. */
export interface KobanHooks {
  /**
   * Runs before each attempt, before the worker's own `beforeProcess`, and may return what it
   * may: `{ args }`, `cancel`, `snooze` or `discard`. Returns an unsubscribe function.
   */
  beforeProcess(hook: BeforeProcessHook): () => void;
  /** Runs after each attempt, after the worker's own `afterProcess`. Returns an unsubscribe function. */
  afterProcess(hook: AfterProcessHook): () => void;
}

/**
 * The global hook registry. An error thrown in a hook is passed to `report` (which logs it and
 * emits an `error` event) and the attempt goes on as if the hook had returned nothing; what a
 * before hook returns may change the args or stop the attempt (executor.ts).
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

  /** Checked before running hooks, so jobs pay nothing while no hook is set. */
  get hasBefore(): boolean {
    return this.before.size > 0;
  }

  get hasAfter(): boolean {
    return this.after.size > 0;
  }

  /** The before hooks in the order they were added. */
  get beforeHooks(): Iterable<BeforeProcessHook> {
    return this.before;
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

import { AsyncLocalStorage } from 'node:async_hooks';
import type { Executor } from '../../database/executor.js';
import type { EngineContext } from '../context.js';
import type { InsertedJob } from '../insert.js';
import { BasicEngine } from './basic.js';
import { type TestingMode, testingModeHere } from './testing-mode.js';

/** Set while the inline engine runs jobs: inserts those jobs make join that run. */
const inlineRun = new AsyncLocalStorage<true>();

/**
 * The engine of the testing modes. In `inline` (Oban's Engines.Inline), jobs are stored as on
 * the basic engine, and an insert (outside a transaction) runs what it made runnable, with
 * whatever that causes, before it returns, then returns the inserted jobs as they ended. An
 * insert made by a job that runs inline leaves its jobs to the run in progress; inserts from
 * concurrent callers run one after another. In `manual`, it is the basic engine. The mode is the
 * node's own unless `withTestingMode` switched it for the calling context.
 */
export class InlineEngine extends BasicEngine {
  private runs: Promise<void> = Promise.resolve();
  private drain: (() => Promise<unknown>) | undefined;

  constructor(
    context: EngineContext,
    private readonly mode: TestingMode,
  ) {
    super(context);
  }

  /** Gives the engine what runs jobs: the node's drainer, which is built on this engine. */
  runWith(drain: () => Promise<unknown>): void {
    this.drain = drain;
  }

  override async inserted(jobs: InsertedJob[], tx: Executor | undefined): Promise<InsertedJob[]> {
    if (tx || inlineRun.getStore() || !this.drain || testingModeHere(this.mode) !== 'inline') return jobs;
    const drain = this.drain;
    const run = this.runs.then(() => inlineRun.run(true, drain));
    this.runs = run.then(
      () => undefined,
      () => undefined,
    );
    await run;
    return Promise.all(
      jobs.map(async (job) => {
        const now = await this.getJob(job.id);
        // The job as it ended, with the args as the caller passed them.
        return now ? { ...now, args: job.args, conflict: job.conflict } : job;
      }),
    );
  }
}

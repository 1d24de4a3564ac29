import { KobanConfigError } from '../../sdk/errors.js';
import type { NewJob } from '../../sdk/worker.js';

/** A job about to be inserted, as the node-wide `beforeNew` hook sees it: with its worker's stored name. */
export interface NewJobOfWorker<Args = any> extends NewJob<Args> {
  readonly worker: string;
}

/**
 * `Koban.start({ beforeNew })`: runs before every job this instance inserts, whatever its worker
 * (by `insert`, `insertAll`, workflows, batches and cron), before the worker's own `beforeNew`.
 * It returns nothing to insert the job as it is, or the job with changed `args` or `options`;
 * a throw refuses the job, and nothing of that insert is written.
 */
export type BeforeNewHook = (job: NewJobOfWorker) => NewJob | void | Promise<NewJob | void>;

export function checkBeforeNew(value: unknown): BeforeNewHook | undefined {
  if (value === undefined || typeof value === 'function') return value as BeforeNewHook | undefined;
  throw new KobanConfigError(
    `beforeNew: expected a function ({ worker, args, options }) => job or nothing, got ${typeof value}`,
  );
}

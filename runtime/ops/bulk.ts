import { KobanValidationError } from '../../sdk/errors.js';
import { finalStates, type JobState, jobStates } from '../../sdk/states.js';
import type { Engine } from '../engine/engine.js';
import { type JobId, toId } from '../engine/job-filter.js';
import { isEmptySearch, type JobSearch } from '../engine/job-search.js';

export type BulkAction = 'cancel' | 'retry' | 'delete';

/** What a bulk action touches: a selection of ids, or every job a search matches. */
export type BulkTarget = readonly JobId[] | { readonly filter: JobSearch };

export interface BulkOptions {
  /** Count what the action would touch, and change nothing. */
  readonly dryRun?: boolean;
  /** For cancel: kept in each job's errors. */
  readonly reason?: string;
  /** Jobs per transaction. Default 500. */
  readonly batchSize?: number;
  /** Called after each batch, for a long action's progress. */
  readonly onProgress?: (progress: BulkProgress) => void;
}

export interface BulkProgress {
  readonly action: BulkAction;
  /** Jobs the action would touch, counted before it started. */
  readonly total: number;
  /** Jobs looked at so far. */
  readonly done: number;
  /** Jobs changed so far (a job another process moved meanwhile is left alone). */
  readonly changed: number;
}

export interface BulkResult extends BulkProgress {
  readonly dryRun: boolean;
}

/** The states each action applies to: cancel unfinished jobs, retry finished or waiting ones, delete any. */
const applicable: Record<BulkAction, readonly JobState[]> = {
  cancel: jobStates.filter((state) => !(finalStates as readonly string[]).includes(state)),
  retry: ['completed', 'discarded', 'cancelled', 'retryable', 'scheduled'],
  delete: jobStates,
};

/**
 * Runs a bulk action server-side: the matching jobs are counted first, then walked newest first
 * in batches of ids, each batch one engine command (its own transaction, with the workflow and
 * batch bookkeeping), so that a million jobs never sit in one transaction or in this process.
 */
export async function runBulk(
  engine: Engine,
  action: BulkAction,
  target: BulkTarget,
  options: BulkOptions,
  timeoutMs: number,
): Promise<BulkResult> {
  const where = `${action}Jobs`;
  const batchSize = options.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new KobanValidationError([
      { path: `${where}.batchSize`, message: `expected an integer from 1 to 10000, got ${batchSize}` },
    ]);
  }
  if (options.reason !== undefined && (typeof options.reason !== 'string' || options.reason.length > 1000)) {
    throw new KobanValidationError([
      { path: `${where}.reason`, message: 'expected text of at most 1000 characters' },
    ]);
  }
  const search = scoped(action, target, where);
  const progress = { action, total: 0, done: 0, changed: 0 };
  if (search === undefined) return { ...progress, dryRun: options.dryRun ?? false };
  progress.total = await engine.countJobs(search, timeoutMs);
  if (options.dryRun || progress.total === 0) return { ...progress, dryRun: options.dryRun ?? false };
  let before: string | undefined;
  for (;;) {
    const ids = await engine.searchIds(search, { limit: batchSize, before }, timeoutMs);
    if (ids.length === 0) break;
    progress.changed += await apply(engine, action, ids, options.reason);
    progress.done += ids.length;
    options.onProgress?.({ ...progress });
    if (ids.length < batchSize) break;
    before = ids[ids.length - 1];
  }
  return { ...progress, dryRun: false };
}

function apply(
  engine: Engine,
  action: BulkAction,
  ids: string[],
  reason: string | undefined,
): Promise<number> {
  if (action === 'cancel') return engine.cancel(ids, reason);
  if (action === 'retry') return engine.retry(ids);
  return engine.delete(ids);
}

/** The search a target means, narrowed to the states the action applies to; undefined if none can match. */
function scoped(action: BulkAction, target: BulkTarget, where: string): JobSearch | undefined {
  let search: JobSearch;
  if (Array.isArray(target)) {
    if (target.length === 0) return undefined;
    search = { ids: (target as readonly JobId[]).map(toId) };
  } else {
    const filter = (target as { filter?: JobSearch }).filter;
    if (filter === undefined || filter === null || typeof filter !== 'object' || isEmptySearch(filter)) {
      throw new KobanValidationError([
        {
          path: `${where}.filter`,
          message: 'an empty filter would select every job; give ids, or a filter with at least one field',
        },
      ]);
    }
    search = filter;
  }
  const asked =
    search.state === undefined ? jobStates : typeof search.state === 'string' ? [search.state] : search.state;
  const states = asked.filter((state) => applicable[action].includes(state));
  // An unknown state is left in, so that the search reports it.
  const unknown = asked.filter((state) => !(jobStates as readonly string[]).includes(state));
  if (states.length === 0 && unknown.length === 0) return undefined;
  return { ...search, state: [...states, ...unknown] };
}

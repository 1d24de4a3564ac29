import type { Koban } from '../koban.js';
import type { DrainOptions, DrainResult } from '../node/drainer.js';
import { drainerKey } from '../node/internals.js';

export type { DrainOptions, DrainResult } from '../node/drainer.js';

/**
 * Runs the available jobs of a Koban instance inline, one at a time, on the node's own
 * executor, writing each outcome before the next job runs, until none is left; counts the
 * outcomes. Use it with `Koban.start({ testing: 'manual' })` (or `queues: {}`) so that no
 * producer competes.
 */
export function drainJobs(koban: Koban, options: DrainOptions = {}): Promise<DrainResult> {
  return koban[drainerKey]().drain(options);
}

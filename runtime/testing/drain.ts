import { type Koban, testingHarness } from '../koban.js';
import { type DrainOptions, type DrainResult, drainWith } from './drain-loop.js';

export type { DrainOptions, DrainResult } from './drain-loop.js';

/**
 * Runs the available jobs of a Koban instance inline, one at a time, on the node's own
 * executor, writing each outcome before the next job runs, until none is left; counts the
 * outcomes. Use it with `Koban.start({ testing: 'manual' })` (or `queues: {}`) so that no
 * producer competes.
 */
export function drainJobs(koban: Koban, options: DrainOptions = {}): Promise<DrainResult> {
  return drainWith(koban[testingHarness](), options);
}

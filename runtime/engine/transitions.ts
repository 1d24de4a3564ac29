import { type SQL, sql } from 'drizzle-orm';
import type { JobState } from '../../sdk/states.js';
import type { Executor } from '../database/executor.js';
import type { JobTracking } from './records.js';

/**
 * A change of state of a job some extension tracks (a workflow step, a job of a batch), reported
 * by the engine write that made it: a job finished (completed, discarded, cancelled), failed an
 * attempt (retryable), was deleted before it finished, or was moved out of a final state by a
 * retry. Untracked jobs are never reported, so they pay nothing for this.
 */
export interface JobTransition extends JobTracking {
  readonly id: string;
  readonly worker: string;
  readonly queue: string;
  /** The new state; `deleted` for a row removed before it finished. */
  readonly state: JobState | 'deleted';
  readonly previous: JobState;
  /** The attempt after the write, and before it (they differ when a snooze gives one back). */
  readonly attempt: number;
  readonly previousAttempt: number;
}

/**
 * Runs inside the transaction of the write that made the transitions, so that what it does
 * commits or rolls back with them. It returns the transitions its own writes made (a cancelled
 * dependent, say), which are reported in turn.
 */
export type TransitionSubscriber = (
  tx: Executor,
  transitions: readonly JobTransition[],
) => Promise<readonly JobTransition[]>;

/**
 * The RETURNING list of a write whose transitions are reported, as a JobTransition every driver
 * returns alike. `previous`, `previousAttempt` and `state` are SQL: the new state is the row's,
 * except for a delete.
 */
export function transitionColumns(
  alias: string,
  previous: string,
  previousAttempt: string,
  state = `${alias}.state`,
): SQL {
  return sql.raw(
    `${alias}.id::text AS id, ${alias}.worker, ${alias}.queue, ${state} AS state, ${previous} AS previous, ` +
      `${alias}.attempt, ${previousAttempt} AS "previousAttempt", ${alias}.workflow_id AS "workflowId", ` +
      `${alias}.batch_id AS "batchId", ${alias}.batch_callback AS "batchCallback"`,
  );
}

import { type SQL, sql } from 'drizzle-orm';
import type { JobState } from '../../sdk/states.js';
import type { Executor } from '../database/database.js';

/**
 * A change of state of a workflow or batch job, reported by the engine write that made it: a
 * job finished (completed, discarded, cancelled), failed an attempt (retryable), was deleted
 * before it finished, or was moved out of a final state by a retry. Plain jobs are never
 * reported, so they pay nothing for this.
 */
export interface JobTransition {
  readonly id: string;
  readonly worker: string;
  readonly queue: string;
  /** The new state; `deleted` for a row removed before it finished. */
  readonly state: JobState | 'deleted';
  readonly previous: JobState;
  /** The attempt after the write, and before it (they differ when a snooze gives one back). */
  readonly attempt: number;
  readonly previousAttempt: number;
  readonly workflowId: string | null;
  readonly batchId: string | null;
  readonly batchCallback: string | null;
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
 * The RETURNING list of a write whose transitions are reported. `previous`, `previousAttempt`
 * and `state` are SQL: the new state is the row's, except for a delete.
 */
export function transitionColumns(
  alias: string,
  previous: string,
  previousAttempt: string,
  state = `${alias}.state`,
): SQL {
  return sql.raw(
    `${alias}.id, ${alias}.worker, ${alias}.queue, ${state} AS state, ${previous} AS previous, ` +
      `${alias}.attempt, ${previousAttempt} AS "previousAttempt", ${alias}.workflow_id AS "workflowId", ` +
      `${alias}.batch_id AS "batchId", ${alias}.batch_callback AS "batchCallback"`,
  );
}

interface TrackedColumns {
  readonly workflowId: string | null;
  readonly batchId: string | null;
  readonly batchCallback: string | null;
}

/**
 * Whether a job's transitions matter to someone: a workflow step, or a job of a batch (a
 * batch's callback jobs are not counted in it).
 */
function isTracked(row: TrackedColumns): boolean {
  return trackingOf(row) !== false;
}

/** Normalises driver values (int8 ids as bigint on PGlite, uuids as text) into a transition. */
export function toTransition(row: Record<string, unknown>): JobTransition {
  return {
    id: String(row.id),
    worker: row.worker as string,
    queue: row.queue as string,
    state: row.state as JobTransition['state'],
    previous: row.previous as JobState,
    attempt: Number(row.attempt),
    previousAttempt: Number(row.previousAttempt),
    workflowId: (row.workflowId as string | null) ?? null,
    batchId: (row.batchId as string | null) ?? null,
    batchCallback: (row.batchCallback as string | null) ?? null,
  };
}

/**
 * Hands transitions to every subscriber, then the transitions their writes made, until none is
 * left: a cancelled step cancels its dependents, which cancel theirs, in one transaction.
 */
export async function reportTransitions(
  tx: Executor,
  subscribers: readonly TransitionSubscriber[],
  transitions: readonly JobTransition[],
): Promise<void> {
  let pending = transitions.filter(isTracked);
  while (pending.length > 0) {
    const next: JobTransition[] = [];
    for (const subscriber of subscribers) {
      for (const made of await subscriber(tx, pending)) next.push(made);
    }
    pending = next.filter(isTracked);
  }
}

/** Who hears of a claimed job's outcome: see `Ack.tracked`. */
export function trackingOf(row: TrackedColumns): false | 'batch' | 'workflow' {
  if (row.workflowId !== null) return 'workflow';
  return row.batchId !== null && row.batchCallback === null ? 'batch' : false;
}

import type { SQL } from 'drizzle-orm';
import type { JobTracking } from './records.js';
import type { TransitionSubscriber } from './transitions.js';

/**
 * A feature that plugs into the engine's job lifecycle: workflows and batches (runtime/workflows,
 * runtime/batches). The engine keeps the lifecycle; an extension keeps its own bookkeeping, written
 * in the same transaction as the job changes that cause it.
 */
export interface EngineExtension {
  readonly name: string;
  /** Whether this extension must hear of the job's changes of state. */
  tracks(job: JobTracking): boolean;
  /**
   * Runs inside the transaction of each write that changed the state of jobs it tracks; returns
   * the transitions its own writes made (a cancelled dependent, say), which are reported in turn.
   */
  readonly onTransitions: TransitionSubscriber;
  /**
   * For attempt outcomes of jobs that this extension alone tracks: wraps the ack statement `done`
   * (a CTE source of rows `id, batch_id, state, previous, attempt, "previousAttempt"`) so that the
   * bookkeeping happens in the ack's own statement instead of a transaction around it.
   */
  readonly countInAck?: (done: SQL) => SQL;
}

/**
 * The one definition of a job's states. The order is part of the stored data: a job's
 * `unique_states` column is a bitmask with bit `i` for `jobStates[i]`, and the migration's
 * `unique_active` expression maps each state to that bit. Append new states at the end only;
 * test/runtime/states.test.ts checks this list against the migrated database.
 */
export const jobStates = [
  'available',
  'scheduled',
  'executing',
  'retryable',
  'completed',
  'discarded',
  'cancelled',
  'held',
] as const;

export type JobState = (typeof jobStates)[number];

/** States a job never leaves on its own: only a retry by request moves it out. */
export const finalStates = ['completed', 'discarded', 'cancelled'] as const satisfies readonly JobState[];

export type FinalState = (typeof finalStates)[number];

/** States of a job that has not finished: what `unique: { states: 'incomplete' }` means. */
export const incompleteStates = [
  'available',
  'scheduled',
  'executing',
  'retryable',
  'held',
] as const satisfies readonly JobState[];

/** States a job is inserted in: see `initialState`. */
export type InitialState = 'available' | 'scheduled' | 'held';

/** Counts of each state, all zero. */
export function emptyCounts(): Record<JobState, number> {
  return Object.fromEntries(jobStates.map((state) => [state, 0])) as Record<JobState, number>;
}

export function isJobState(value: unknown): value is JobState {
  return typeof value === 'string' && (jobStates as readonly string[]).includes(value);
}

export function isFinalState(state: JobState): state is FinalState {
  return (finalStates as readonly JobState[]).includes(state);
}

/** The bit of a state in `unique_states`. */
export function stateBit(state: JobState): number {
  return 1 << jobStates.indexOf(state);
}

/** The bitmask of a set of states. */
export function stateMask(states: readonly JobState[]): number {
  let mask = 0;
  for (const state of states) mask |= stateBit(state);
  return mask;
}

/** The states of a bitmask, in `jobStates` order. */
export function statesOf(mask: number): JobState[] {
  return jobStates.filter((state) => (mask & stateBit(state)) !== 0);
}

/**
 * The state a new job starts in: `held` while it waits for workflow deps, else `scheduled` when
 * it is due later than `now`, else `available`. The database applies the same rule with its
 * own clock when it inserts (runtime/engine/state-sql.ts).
 */
export function initialState(
  job: { readonly waitsForDeps: boolean; readonly dueAt: Date | null },
  now: Date,
): InitialState {
  if (job.waitsForDeps) return 'held';
  return job.dueAt !== null && job.dueAt > now ? 'scheduled' : 'available';
}

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

/** States a job is inserted in: held while it waits for deps, scheduled when due later, else available. */
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

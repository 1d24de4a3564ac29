import { type SQL, sql } from 'drizzle-orm';
import { finalStates, type JobState, jobStates, stateBit } from '../../sdk/states.js';

/** A list of states as SQL literals, for `state IN (…)`. State names come from a fixed list. */
function stateList(states: readonly JobState[]): string {
  return `(${states.map((state) => `'${state}'`).join(', ')})`;
}

/** `(…final states…)`, as text for SQL built as text. */
export const finalStatesText = stateList(finalStates);

/** `(…final states…)` */
export const finalStateList: SQL = sql.raw(finalStatesText);

/** A condition on `alias.state` being one of the states of a bitmask; `true` for all of them. */
export function stateInMask(alias: string, mask: number): string {
  const listed = jobStates.filter((state) => (mask & stateBit(state)) !== 0);
  if (listed.length === jobStates.length) return 'true';
  if (listed.length === 0) return 'false';
  return `${alias}.state IN (${listed.map((state) => `'${state}'`).join(', ')})`;
}

/**
 * The state a row is inserted in, by the database's clock:
 * held while it waits for deps, scheduled when due later, else available.
 */
export function initialStateSql(scheduledAt: string, waitsForDeps: string | null): string {
  const due = `CASE WHEN ${scheduledAt} > now() THEN 'scheduled' ELSE 'available' END`;
  return waitsForDeps === null ? due : `CASE WHEN ${waitsForDeps} THEN 'held' ELSE ${due} END`;
}

/** The bit of the state a row is inserted in, for `unique_states`, by the same rule. */
export function initialStateBitSql(scheduledAt: string): string {
  return `CASE WHEN ${scheduledAt} > now() THEN ${stateBit('scheduled')} ELSE ${stateBit('available')} END`;
}

import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  finalStates,
  incompleteStates,
  initialState,
  isFinalState,
  jobStates,
  stateBit,
  stateMask,
  statesOf,
} from '../../sdk/states.js';
import { freshDatabase } from '../support/databases.js';

// The states list is stored data: its order gives each state's bit in `unique_states`, and the
// migration's CHECK and `unique_active` expression were written from it. These tests read the
// migrated database, so that reordering or renaming a state fails here, not in production.

let sql: postgres.Sql;

beforeAll(async () => {
  sql = postgres(await freshDatabase(), { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  await sql?.end();
});

describe('the states', () => {
  it("are exactly the migration's CHECK list", async () => {
    const [row] = await sql<{ definition: string }[]>`
      SELECT pg_get_constraintdef(c.oid) AS definition FROM pg_constraint c
      JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = 'koban' AND t.relname = 'jobs' AND c.contype = 'c'
        AND pg_get_constraintdef(c.oid) LIKE '%state%available%'`;
    const listed = [...row!.definition.matchAll(/'([a-z]+)'::text/g)].map((match) => match[1]);
    expect([...listed].sort()).toEqual([...jobStates].sort());
  });

  it("each have the bit the migration's unique_active expression gives them", async () => {
    // A job holds its key exactly when its state's bit is among its unique_states.
    for (const state of jobStates) {
      for (const held of jobStates) {
        const [row] = await sql<{ active: string | null }[]>`
          WITH inserted AS (
            INSERT INTO koban.jobs (worker, state, unique_key, unique_states)
            VALUES ('StateProbe', ${state}, ${`probe:${state}:${held}`}, ${stateBit(held)})
            RETURNING unique_active
          )
          SELECT unique_active AS active FROM inserted`;
        expect({ state, held, holds: row!.active !== null }).toEqual({ state, held, holds: state === held });
      }
    }
    await sql`DELETE FROM koban.jobs WHERE worker = 'StateProbe'`;
  });

  it('split into final and incomplete sets that cover every state once', () => {
    expect([...finalStates, ...incompleteStates].sort()).toEqual([...jobStates].sort());
    for (const state of finalStates) expect(isFinalState(state)).toBe(true);
    for (const state of incompleteStates) expect(isFinalState(state)).toBe(false);
  });

  it('map to masks and back', () => {
    expect(stateMask(jobStates)).toBe(255);
    expect(statesOf(stateMask(['scheduled', 'held']))).toEqual(['scheduled', 'held']);
  });

  it('start a job held while it waits for deps, else scheduled when due later, else available', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const later = new Date('2030-01-01T00:00:01Z');
    expect(initialState({ waitsForDeps: true, dueAt: later }, now)).toBe('held');
    expect(initialState({ waitsForDeps: false, dueAt: later }, now)).toBe('scheduled');
    expect(initialState({ waitsForDeps: false, dueAt: now }, now)).toBe('available');
    expect(initialState({ waitsForDeps: false, dueAt: null }, now)).toBe('available');
  });
});

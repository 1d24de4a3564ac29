import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../runtime/database/database.js';
import { openDatabase } from '../../runtime/database/open-database.js';
import { BasicEngine, engineContext } from '../../runtime/engine/engines/basic.js';
import type { InsertRow } from '../../runtime/engine/insert-row.js';
import type { StoredArgs } from '../../runtime/engine/records.js';
import {
  finalStates,
  incompleteStates,
  isFinalState,
  jobStates,
  stateBit,
  stateMask,
} from '../../sdk/states.js';
import { freshDatabase } from '../support/databases.js';

// The states list is stored data: its order gives each state's bit in `unique_states`, and the
// migration's CHECK and `unique_active` expression were written from it. These tests read the
// migrated database, so that reordering or renaming a state fails here, not in production.

let sql: postgres.Sql;
let database: Database;

beforeAll(async () => {
  const url = await freshDatabase();
  sql = postgres(url, { max: 1, onnotice: () => {} });
  database = await openDatabase(url, { poolSize: 1 });
});

afterAll(async () => {
  await sql?.end();
  await database?.close();
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

  it('give each state its bit in jobStates order', () => {
    expect(stateMask(jobStates)).toBe(255);
    expect(stateMask(['scheduled', 'held'])).toBe(stateBit('scheduled') | stateBit('held'));
  });

  it('start a job held while it waits for deps, else scheduled when due later, else available', async () => {
    const engine = new BasicEngine(engineContext(database, 'koban'));
    const row = (scheduledAt: Date | null, depsRemaining = 0): InsertRow => ({
      worker: 'StartProbe',
      queue: 'states',
      args: {} as StoredArgs,
      given: {},
      meta: {},
      tags: [],
      maxAttempts: 1,
      priority: 0,
      scheduledAt,
      uniqueKey: null,
      uniqueStates: null,
      depsRemaining,
      // The held state is only written for tracked rows: those of a workflow.
      workflowId: depsRemaining > 0 ? '0190e1b4-0000-7000-8000-0000000000aa' : null,
    });
    const later = new Date(Date.now() + 60_000);
    const earlier = new Date(Date.now() - 60_000);
    const jobs = await engine.insert({ rows: [row(later, 1), row(later), row(earlier), row(null)] });
    expect(jobs.map((job) => job.state)).toEqual(['held', 'scheduled', 'available', 'available']);
    await sql`DELETE FROM koban.jobs WHERE worker = 'StartProbe'`;
  });
});

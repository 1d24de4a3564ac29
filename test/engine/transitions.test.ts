import { sql as sqlTag } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Database } from '../../runtime/database/database.js';
import type { Ack } from '../../runtime/engine/ack.js';
import { Engine } from '../../runtime/engine/engine.js';
import type { InsertRow } from '../../runtime/engine/insert.js';
import type { JobTransition } from '../../runtime/engine/transitions.js';
import { freshDatabase } from '../support/databases.js';

// The engine reports every write that finishes a workflow or batch job (or reopens one) to its
// subscribers, inside that write's transaction. Plain jobs are never reported, and cost no
// transaction.

const batchId = '0190e1b4-0000-7000-8000-000000000001';

let url: string;
let database: Database;
let engine: Engine;
let sql: postgres.Sql;
let seen: JobTransition[][] = [];
let unsubscribe: () => void;

beforeAll(async () => {
  url = await freshDatabase();
  database = await Database.open(url, { poolSize: 3 });
  engine = new Engine(database, 'koban');
  sql = postgres(url, { max: 2, onnotice: () => {} });
});

afterAll(async () => {
  await database?.close();
  await sql?.end();
});

afterEach(async () => {
  unsubscribe?.();
  seen = [];
  await sql`DELETE FROM koban.jobs`;
});

/** Records what the subscriber is told, and checks that it runs inside a transaction. */
function record(): void {
  unsubscribe = engine.subscribe(async (tx, transitions) => {
    const [row] = await database.query<{ inside: boolean }>(
      // now() is the transaction's start; statement_timestamp() is this statement's.
      sqlTag`SELECT now() <> statement_timestamp() AS inside`,
      tx,
    );
    expect(row?.inside).toBe(true);
    seen.push([...transitions]);
    return [];
  });
}

function row(worker: string, tracked: boolean, maxAttempts = 3): InsertRow {
  return {
    worker,
    queue: 'transitions',
    args: {},
    meta: {},
    tags: [],
    maxAttempts,
    priority: 0,
    scheduledAt: null,
    uniqueKey: null,
    uniqueStates: null,
    batchId: tracked ? batchId : null,
  };
}

async function claimAll(count: number) {
  const claimed = await engine.claim('transitions', count, 'transitions-node');
  expect(claimed).toHaveLength(count);
  return claimed.sort((a, b) => Number(a.id) - Number(b.id));
}

const ack = (id: unknown, attempt: number, state: Ack['state'], extra: Partial<Ack> = {}): Ack => ({
  id: String(id),
  attempt,
  state,
  tracked: 'workflow',
  ...extra,
});

describe('the transitions of the ack', () => {
  it('reports each outcome of tracked jobs with its previous state and attempt', async () => {
    record();
    await engine.insert({ rows: ['A', 'B', 'C', 'D', 'E'].map((worker) => row(worker, true)) });
    const [a, b, c, d, e] = await claimAll(5);
    const error = { attempt: 1, at: new Date().toISOString(), error: 'boom' };
    await engine.ack([
      ack(a!.id, 1, 'completed'),
      ack(b!.id, 1, 'discarded', { error }),
      ack(c!.id, 1, 'cancelled', { error }),
      ack(d!.id, 1, 'retryable', { error, delayMs: 60_000 }),
      ack(e!.id, 1, 'scheduled', { delayMs: 60_000, refund: true }),
    ]);
    expect(seen).toHaveLength(1);
    const byWorker = Object.fromEntries(seen[0]!.map((transition) => [transition.worker, transition]));
    expect(byWorker.A).toMatchObject({
      state: 'completed',
      previous: 'executing',
      attempt: 1,
      previousAttempt: 1,
      batchId,
    });
    expect(byWorker.B).toMatchObject({ state: 'discarded', previous: 'executing' });
    expect(byWorker.C).toMatchObject({ state: 'cancelled', previous: 'executing' });
    expect(byWorker.D).toMatchObject({ state: 'retryable', previous: 'executing', attempt: 1 });
    // A snooze gives the attempt back: the transition says so.
    expect(byWorker.E).toMatchObject({
      state: 'scheduled',
      previous: 'executing',
      attempt: 0,
      previousAttempt: 1,
    });
  });

  it('reports nothing for plain jobs, and writes their outcomes without a transaction', async () => {
    record();
    await engine.insert({ rows: [row('Plain', false), row('Plain', false)] });
    const claimed = await claimAll(2);
    const transaction = vi.spyOn(database, 'transaction');
    try {
      await engine.ack(claimed.map((job) => ({ ...ack(job.id, 1, 'completed'), tracked: false })));
      expect(transaction).not.toHaveBeenCalled();
    } finally {
      transaction.mockRestore();
    }
    expect(seen).toEqual([]);
    const states = await sql`SELECT state FROM koban.jobs WHERE worker = 'Plain'`;
    expect(states.map((job) => job.state)).toEqual(['completed', 'completed']);
  });

  it('ignores a late ack for an older attempt', async () => {
    record();
    await engine.insert({ rows: [row('Late', true)] });
    const [job] = await claimAll(1);
    await engine.ack([ack(job!.id, 2, 'completed')]);
    expect(seen).toEqual([]);
  });
});

describe('the transitions of commands and plugins', () => {
  it('reports a cancel by filter, with the state each job was in', async () => {
    record();
    await engine.insert({ rows: [row('Cancel', true), row('Cancel', true), row('Cancel', false)] });
    const [first] = await claimAll(1);
    expect(await engine.cancel({ worker: 'Cancel' })).toBe(3);
    const transitions = seen.flat();
    expect(
      transitions
        .map((transition) => [transition.id === String(first!.id), transition.previous, transition.state])
        .sort(),
    ).toEqual([
      [false, 'available', 'cancelled'],
      [true, 'executing', 'cancelled'],
    ]);
  });

  it("reports the lifeline's discard of a dead node's job that has no attempt left", async () => {
    record();
    await engine.insert({ rows: [row('Orphan', true, 1), row('Orphan', true, 2)] });
    await claimAll(2);
    // No node row exists for transitions-node: its jobs are orphans.
    expect(await engine.rescue(60_000)).toBe(2);
    const transitions = seen.flat().sort((a, b) => a.state.localeCompare(b.state));
    expect(
      transitions.map((transition) => [transition.previous, transition.state, transition.attempt]),
    ).toEqual([
      ['executing', 'available', 1],
      ['executing', 'discarded', 1],
    ]);
  });

  it('reports the deletion of unfinished jobs, but not of finished ones', async () => {
    record();
    await engine.insert({ rows: [row('Delete', true), row('Delete', true)] });
    const [done] = await claimAll(1);
    await engine.ack([ack(done!.id, 1, 'completed')]);
    seen = [];
    expect(await engine.delete({ worker: 'Delete' })).toBe(2);
    expect(seen.flat().map((transition) => [transition.previous, transition.state])).toEqual([
      ['available', 'deleted'],
    ]);
  });

  it('reports a retry that moves a job out of a final state', async () => {
    record();
    await engine.insert({ rows: [row('Retry', true)] });
    const [job] = await claimAll(1);
    await engine.ack([ack(job!.id, 1, 'discarded')]);
    seen = [];
    expect(await engine.retry([String(job!.id)])).toBe(1);
    expect(seen.flat().map((transition) => [transition.previous, transition.state])).toEqual([
      ['discarded', 'available'],
    ]);
  });
});

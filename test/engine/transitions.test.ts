import { sql as sqlTag } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Database } from '../../runtime/database/database.js';
import { openDatabase } from '../../runtime/database/open-database.js';
import type { Ack } from '../../runtime/engine/ack.js';
import type { ClaimedJob } from '../../runtime/engine/claim.js';
import { BasicEngine, engineContext } from '../../runtime/engine/engines/basic.js';
import type { InsertRow } from '../../runtime/engine/insert.js';
import type { StoredArgs } from '../../runtime/engine/records.js';
import type { JobTransition } from '../../runtime/engine/transitions.js';
import { freshDatabase } from '../support/databases.js';

// The engine reports every write that changes the state of a job an extension tracks (finishes
// it, fails an attempt, reopens it) to that extension, inside that write's transaction. Jobs no
// extension tracks are never reported, and cost no transaction.

const batchId = '0190e1b4-0000-7000-8000-000000000001';

let url: string;
let database: Database;
let engine: BasicEngine;
let sql: postgres.Sql;
let seen: JobTransition[][] = [];
let recording = false;

beforeAll(async () => {
  url = await freshDatabase();
  database = await openDatabase(url, { poolSize: 3 });
  const context = engineContext(database, 'koban');
  // An extension that tracks the jobs of a batch (no batch row exists: nothing else counts them).
  context.extensions.push({
    name: 'recorder',
    tracks: (job) => job.batchId !== null,
    onTransitions: async (tx, transitions) => {
      if (!recording) return [];
      const [row] = await database.query<{ inside: boolean }>(
        // now() is the transaction's start; statement_timestamp() is this statement's.
        sqlTag`SELECT now() <> statement_timestamp() AS inside`,
        tx,
      );
      expect(row?.inside).toBe(true);
      seen.push([...transitions]);
      return [];
    },
  });
  engine = new BasicEngine(context);
  sql = postgres(url, { max: 2, onnotice: () => {} });
});

afterAll(async () => {
  await database?.close();
  await sql?.end();
});

afterEach(async () => {
  recording = false;
  seen = [];
  await sql`DELETE FROM koban.jobs`;
  await sql`DELETE FROM koban.job_history`;
});

/** Records what the extension is told, and checks that it runs inside a transaction. */
function record(): void {
  recording = true;
}

function row(worker: string, tracked: boolean, maxAttempts = 3): InsertRow {
  return {
    worker,
    queue: 'transitions',
    args: {} as StoredArgs,
    given: {},
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

const ack = (job: ClaimedJob, attempt: number, state: Ack['state'], extra: Partial<Ack> = {}): Ack => ({
  job: { ...job, attempt },
  state,
  ...extra,
});

describe('the transitions of the ack', () => {
  it('reports each outcome of tracked jobs with its previous state and attempt', async () => {
    record();
    await engine.insert({ rows: ['A', 'B', 'C', 'D', 'E'].map((worker) => row(worker, true)) });
    const [a, b, c, d, e] = await claimAll(5);
    const error = { attempt: 1, at: new Date().toISOString(), error: 'boom' };
    await engine.ack([
      ack(a!, 1, 'completed'),
      ack(b!, 1, 'discarded', { error }),
      ack(c!, 1, 'cancelled', { error }),
      ack(d!, 1, 'retryable', { error, delayMs: 60_000 }),
      ack(e!, 1, 'scheduled', { delayMs: 60_000, refund: true }),
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
      await engine.ack(claimed.map((job) => ack(job, 1, 'completed')));
      expect(transaction).not.toHaveBeenCalled();
    } finally {
      transaction.mockRestore();
    }
    expect(seen).toEqual([]);
    const states = await sql`SELECT state FROM koban.all_jobs WHERE worker = 'Plain'`;
    expect(states.map((job) => job.state)).toEqual(['completed', 'completed']);
  });

  it('ignores a late ack for an older attempt', async () => {
    record();
    await engine.insert({ rows: [row('Late', true)] });
    const [job] = await claimAll(1);
    await engine.ack([ack(job!, 2, 'completed')]);
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
        .map((transition) => [transition.id === first!.id, transition.previous, transition.state])
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
    await engine.ack([ack(done!, 1, 'completed')]);
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
    await engine.ack([ack(job!, 1, 'discarded')]);
    seen = [];
    expect(await engine.retry([job!.id])).toBe(1);
    expect(seen.flat().map((transition) => [transition.previous, transition.state])).toEqual([
      ['discarded', 'available'],
    ]);
  });
});

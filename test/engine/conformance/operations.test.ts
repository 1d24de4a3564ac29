import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ack } from '../../../runtime/engine/ack.js';
import type { ClaimedJob } from '../../../runtime/engine/claim.js';
import type { InsertRow } from '../../../runtime/engine/insert-row.js';
import type { MetricsRow } from '../../../runtime/engine/metrics-history.js';
import type { QueuePosition } from '../../../runtime/engine/queue-position.js';
import type { StoredArgs } from '../../../runtime/engine/records.js';
import type { Signal } from '../../../runtime/engine/signals.js';
import { waitFor } from '../../support/wait.js';
import { type Driver, drivers } from './drivers.js';

// The driver conformance suite (River's riverdrivertest): every engine operation runs on each
// driver against the same assertions, and sends the same statements, whose rendered SQL is kept
// in sql/*.sql so that a review reads the final text.

const opened: Driver[] = [];

beforeAll(async () => {
  for (const open of drivers) opened.push(await open());
}, 120_000);

afterAll(async () => {
  for (const driver of opened) await driver.close();
});

function row(overrides: Partial<InsertRow> = {}): InsertRow {
  return {
    worker: 'ConformanceWorker',
    queue: 'conformance',
    args: { n: 1 } as unknown as StoredArgs,
    given: { n: 1 },
    meta: { source: 'conformance' },
    tags: ['a', 'b "quoted"'],
    maxAttempts: 3,
    priority: 0,
    scheduledAt: null,
    uniqueKey: null,
    uniqueStates: null,
    ...overrides,
  };
}

const ack = (job: ClaimedJob, state: Ack['state'], extra: Partial<Ack> = {}): Ack => ({
  job,
  state,
  ...extra,
});

/**
 * Runs `scenario` on every driver, each on an empty jobs table; checks that every driver sent
 * the same statements, and keeps them as `sql/<name>.sql`.
 */
function operation(name: string, scenario: (driver: Driver) => Promise<void>) {
  it(name, async () => {
    let first: string[] | undefined;
    for (const driver of opened) {
      await driver.raw(
        'DELETE FROM koban.jobs; DELETE FROM koban.job_history; DELETE FROM koban.nodes; DELETE FROM koban.leaders; DELETE FROM koban.queues; DELETE FROM koban.cron_entries; DELETE FROM koban.job_metrics; DELETE FROM koban.prune_rules',
      );
      driver.database.statements.length = 0;
      try {
        await scenario(driver);
      } catch (error) {
        throw new Error(`${name} on ${driver.name}: ${(error as Error).message}`, { cause: error });
      }
      const statements = [...driver.database.statements];
      if (first === undefined) first = statements;
      else expect(statements, `${name}: the statements on ${driver.name}`).toEqual(first);
    }
    await expect(`${first!.map((text) => `${text.trim()};`).join('\n\n')}\n`).toMatchFileSnapshot(
      `./sql/${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.sql`,
    );
  });
}

describe('every engine operation, on every driver', () => {
  operation('insert and read', async ({ engine }) => {
    const due = new Date(Date.now() + 3_600_000);
    const [now, later] = await engine.insert({ rows: [row(), row({ scheduledAt: due, priority: 4 })] });
    expect(now).toMatchObject({
      state: 'available',
      args: { n: 1 },
      tags: ['a', 'b "quoted"'],
      conflict: false,
    });
    expect(typeof now!.id).toBe('string');
    expect(now!.insertedAt).toBeInstanceOf(Date);
    expect(later).toMatchObject({ state: 'scheduled', priority: 4 });
    expect(later!.scheduledAt.getTime()).toBe(due.getTime());
    const stored = await engine.getJob(now!.id);
    expect(stored).toMatchObject({
      id: now!.id,
      state: 'available',
      queue: 'conformance',
      worker: 'ConformanceWorker',
      args: { n: 1 },
      meta: { source: 'conformance' },
      tags: ['a', 'b "quoted"'],
      errors: [],
      attempt: 0,
      maxAttempts: 3,
      attemptedAt: null,
      attemptedBy: [],
      workflowId: null,
      batchId: null,
    });
    expect(stored!.insertedAt.getTime()).toBe(now!.insertedAt.getTime());
    expect(await engine.getJob('999999999')).toBeNull();
    expect((await engine.jobsByIds([later!.id, '999999999', now!.id])).map((job) => job.id).sort()).toEqual(
      [now!.id, later!.id].sort(),
    );
    expect((await engine.listJobs({ queue: 'conformance' })).map((job) => job.id)).toEqual([
      later!.id,
      now!.id,
    ]);
    expect((await engine.allJobs({ state: 'scheduled' })).map((job) => job.id)).toEqual([later!.id]);
    expect(await engine.availableQueues()).toEqual(['conformance']);
    expect(await engine.availableQueues('elsewhere')).toEqual([]);
  });

  operation('store progress for the running attempt only', async ({ engine }) => {
    await engine.insert({ rows: [row()] });
    const [job] = await engine.claim('conformance', 1, 'conformance-node');
    expect(await engine.setProgress(job!.id, 1, JSON.stringify({ done: 3, of: 'ten "rows"' }))).toBe(true);
    expect(await engine.setProgress(job!.id, 2, '50')).toBe(false);
    await engine.ack([ack(job!, 'completed')]);
    expect(await engine.setProgress(job!.id, 1, '99')).toBe(false);
    expect((await engine.getJob(job!.id))?.progress).toEqual({ done: 3, of: 'ten "rows"' });
  });

  operation('count unfinished jobs per queue and state for the gauges', async ({ engine }) => {
    await engine.insert({
      rows: [row(), row(), row({ queue: 'other' }), row({ scheduledAt: new Date(Date.now() + 3_600_000) })],
    });
    const [claimed] = await engine.claim('other', 1, 'conformance-node');
    await engine.ack([ack(claimed!, 'completed')]);
    const gauges = await engine.queueGauges();
    expect(gauges.map(({ queue, state, count }) => [queue, state, count])).toEqual([
      ['conformance', 'available', 2],
      ['conformance', 'scheduled', 1],
    ]);
    expect(gauges[0]!.oldestAvailableMs).toBeGreaterThanOrEqual(0);
    expect(gauges[1]!.oldestAvailableMs).toBeNull();
  });

  operation('write, read and prune the metrics history', async ({ engine }) => {
    const minute = Math.floor(Date.now() / 60_000) * 60_000 - 5 * 60_000;
    const histogram = (at: number) => Array.from({ length: 18 }, (_, index) => (index === at ? 2 : 0));
    const rollup = (node: string, extra: Partial<MetricsRow> = {}): MetricsRow => ({
      minute,
      queue: 'conformance',
      worker: 'ConformanceWorker',
      node,
      completed: 2,
      retried: 0,
      discarded: 0,
      cancelled: 0,
      snoozed: 0,
      runMs: 12.5,
      queueMs: 3,
      runHistogram: histogram(3),
      queueHistogram: histogram(1),
      ...extra,
    });
    await engine.writeMetrics([rollup('node-a'), rollup('node-b', { worker: 'Other "quoted"' })]);
    await engine.writeMetrics([rollup('node-a', { completed: 1, retried: 1 })]);
    await engine.writeMetrics([rollup('node-c', { minute: minute - 3 * 86_400_000 })]);
    const range = { from: minute, to: minute + 60_000, stepMinutes: 1, groupBy: 'worker' as const };
    const rows = await engine.readMetrics(range);
    expect(
      rows.map(({ at, worker, completed, retried, runMs }) => ({ at, worker, completed, retried, runMs })),
    ).toEqual([
      { at: minute, worker: 'ConformanceWorker', completed: 3, retried: 1, runMs: 25 },
      { at: minute, worker: 'Other "quoted"', completed: 2, retried: 0, runMs: 12.5 },
    ]);
    expect(rows[0]!.runHistogram).toEqual(histogram(3).map((n) => n * 2));
    const all = await engine.readMetrics({ ...range, groupBy: 'none', stepMinutes: 60 });
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ queue: null, worker: null, completed: 5, retried: 1 });
    expect(await engine.pruneMetrics(86_400)).toBe(1);
    expect(await engine.readMetrics({ ...range, from: minute - 4 * 86_400_000 })).toHaveLength(2);
  });

  operation('unique insert', async ({ engine }) => {
    const unique = row({ uniqueKey: 'conformance:1', uniqueStates: 0b11111, uniquePeriod: null });
    const [first] = await engine.insert({ rows: [unique] });
    const [second] = await engine.insert({ rows: [unique] });
    expect(first!.conflict).toBe(false);
    expect(second).toMatchObject({ id: first!.id, conflict: true, state: 'available' });
    expect(second!.insertedAt.getTime()).toBe(first!.insertedAt.getTime());
  });

  operation('claim past a position, to the microsecond', async ({ engine, raw }) => {
    // Ten jobs share one insert's due time, so the id orders them; the rest are due at odd
    // microseconds and priorities. A chain of claims of one, each past the last, takes every job
    // once, in the queue's order: the position rebuilds the stored due time exactly.
    await engine.insert({ rows: Array.from({ length: 10 }, () => row()) });
    await engine.insert({ rows: Array.from({ length: 30 }, (_, n) => row({ priority: n % 3 })) });
    await raw(`UPDATE koban.jobs SET scheduled_at = scheduled_at - (id % 7) * interval '1 microsecond'
      - (id % 5) * interval '1 second 333 milliseconds 1 microsecond' WHERE id % 4 <> 0 AND priority > 0`);
    const order = await raw<{ id: string }>(
      `SELECT j.id::text AS id FROM koban.jobs j ORDER BY j.priority, j.scheduled_at, j.id`,
    );
    const taken: string[] = [];
    let after: QueuePosition | undefined;
    for (;;) {
      const { jobs, last } = await engine.claimQueue('conformance', 1, 'conformance-node', { after });
      if (jobs.length === 0) break;
      taken.push(...jobs.map((job) => job.id));
      after = last;
    }
    expect(taken).toEqual(order.map((job) => job.id));
    expect(after).toMatchObject({ id: order.at(-1)!.id });
  });

  operation('claim in run order across a digit boundary of the ids', async ({ engine, raw }) => {
    await raw(`INSERT INTO koban.jobs (id, queue, worker, args, scheduled_at) VALUES
      (10000000000, 'conformance', 'ConformanceWorker', '{}', '2000-01-01'),
      (9999999999, 'conformance', 'ConformanceWorker', '{}', '2000-01-01')`);
    const { jobs, last } = await engine.claimQueue('conformance', 2, 'conformance-node', {});
    expect(jobs.map((job) => job.id)).toEqual(['9999999999', '10000000000']);
    expect(last).toEqual({ priority: 0, dueUs: Date.UTC(2000, 0, 1) * 1000, id: '10000000000' });
  });

  operation('claim in run order and ack each outcome', async ({ engine }) => {
    await engine.insert({ rows: [row({ priority: 5 }), row({ priority: 1 }), row(), row(), row(), row()] });
    const claimed = await engine.claim('conformance', 10, 'conformance-node');
    expect(claimed.map((job) => job.priority)).toEqual([0, 0, 0, 0, 1, 5]);
    expect(claimed[0]).toMatchObject({ state: 'executing', attempt: 1, attemptedBy: ['conformance-node'] });
    expect(claimed[0]!.attemptedAt).toBeInstanceOf(Date);
    expect(await engine.claim('conformance', 10, 'conformance-node')).toEqual([]);
    const [completed, retryable, discarded, cancelled, snoozed, recorded] = claimed;
    const error = { attempt: 1, at: '2030-01-01T00:00:00.000Z', error: 'Error: "boom"\n\\', stack: 'at x' };
    await engine.ack([
      ack(completed!, 'completed'),
      ack(retryable!, 'retryable', { error, delayMs: 60_000 }),
      ack(discarded!, 'discarded', { error }),
      ack(cancelled!, 'cancelled', { error }),
      ack(snoozed!, 'scheduled', { delayMs: 30_000, refund: true }),
      ack(recorded!, 'completed', { recorded: Buffer.from([1, 2, 3]) }),
    ]);
    const state = async (job: ClaimedJob) => (await engine.getJob(job.id))!;
    expect(await state(completed!)).toMatchObject({ state: 'completed', errors: [] });
    expect((await state(completed!)).completedAt).toBeInstanceOf(Date);
    expect(await state(retryable!)).toMatchObject({ state: 'retryable', errors: [error], attempt: 1 });
    expect((await state(retryable!)).scheduledAt.getTime()).toBeGreaterThan(Date.now() + 50_000);
    expect(await state(discarded!)).toMatchObject({ state: 'discarded', errors: [error] });
    expect(await state(cancelled!)).toMatchObject({ state: 'cancelled', errors: [error] });
    expect(await state(snoozed!)).toMatchObject({ state: 'scheduled', attempt: 0 });
    expect(await engine.recordedOf(recorded!.id)).toMatchObject({
      id: recorded!.id,
      state: 'completed',
      recorded: 'AQID',
    });
    expect(await engine.recordedOf(completed!.id)).toMatchObject({ recorded: null });
    // A late ack for an attempt that is over changes nothing.
    await engine.ack([ack({ ...completed!, attempt: 7 }, 'discarded', { error })]);
    expect((await state(completed!)).state).toBe('completed');
  });

  operation('claim by id', async ({ engine }) => {
    const [a, b] = await engine.insert({ rows: [row(), row({ queue: 'other' })] });
    const claimed = await engine.claimById([a!.id, b!.id, '999999999'], 'conformance-node');
    expect(claimed.map((job) => job.id).sort()).toEqual([a!.id, b!.id].sort());
  });

  operation('stage due jobs', async ({ engine, raw }) => {
    // One time for both rows: the insert sends a value all rows share once, so two times a
    // millisecond apart would render another statement.
    const inAMinute = new Date(Date.now() + 60_000);
    const [due, later] = await engine.insert({
      rows: [row({ scheduledAt: inAMinute }), row({ scheduledAt: inAMinute })],
    });
    await raw(`UPDATE koban.jobs SET scheduled_at = now() - interval '1 second' WHERE id = ${due!.id}`);
    expect(await engine.stage()).toBe(1);
    expect((await engine.getJob(due!.id))!.state).toBe('available');
    expect((await engine.getJob(later!.id))!.state).toBe('scheduled');
    await engine.stageNow({ queue: 'conformance' }, []);
    expect((await engine.getJob(later!.id))!.state).toBe('available');
  });

  operation('end the jobs past their deadline', async ({ engine, raw }) => {
    // One deadline for every row, far ahead, so every driver renders the same insert.
    const later = new Date(Date.now() + 3_600_000);
    const [cancelled, discarded, kept] = await engine.insert({
      rows: [
        row({ deadlineAt: later, deadlineAction: 'cancel' }),
        row({ deadlineAt: later, deadlineAction: 'discard', scheduledAt: later }),
        row({ deadlineAt: later, deadlineAction: 'cancel' }),
      ],
    });
    await raw(
      `UPDATE koban.jobs SET deadline_at = now() - interval '1 second' WHERE id IN (${cancelled!.id}, ${discarded!.id})`,
    );
    expect(await engine.claim('conformance', 10, 'conformance-node')).toHaveLength(1);
    expect(await engine.expireDeadlines()).toBe(2);
    expect((await engine.getJob(cancelled!.id))!.state).toBe('cancelled');
    expect((await engine.getJob(discarded!.id))!.state).toBe('discarded');
    expect((await engine.getJob(discarded!.id))!.errors[0]!.error).toMatch(
      /^deadline: not started by .*, so discarded$/,
    );
    expect((await engine.getJob(kept!.id))!.state).toBe('executing');
  });

  operation('rescue the jobs of a dead node', async ({ engine }) => {
    await engine.insert({ rows: [row(), row({ maxAttempts: 1 })] });
    await engine.claim('conformance', 10, 'dead-node');
    expect(await engine.rescue(60_000)).toBe(2);
    const jobs = await engine.allJobs({ queue: 'conformance' });
    expect(jobs.map((job) => job.state).sort()).toEqual(['available', 'discarded']);
    expect(jobs[0]!.errors[0]!.error).toContain('rescued: node dead-node stopped heartbeating');
  });

  operation('rescue the jobs a restarted node left', async ({ engine }) => {
    await engine.beat('pod', ['conformance'], true);
    await engine.insert({ rows: [row(), row()] });
    const [before] = await engine.claim('conformance', 1, 'pod');
    // The process restarts under its name: its next first beat restarts the node's clock.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const restarted = await engine.beat('pod', ['conformance'], true);
    expect(restarted.created).toBe(false);
    const [after] = await engine.claim('conformance', 1, 'pod');
    expect(await engine.rescueRestarted('pod')).toBe(1);
    expect((await engine.getJob(before!.id))!.state).toBe('available');
    expect((await engine.getJob(after!.id))!.state).toBe('executing');
    const again = await engine.beat('pod', ['conformance'], false);
    expect(again.startedAt).toBe(restarted.startedAt);
  });

  operation('find the queues with available jobs', async ({ engine }) => {
    await engine.insert({
      rows: [
        row(),
        row({ queue: 'other' }),
        row({ queue: 'later', scheduledAt: new Date(Date.now() + 60_000) }),
      ],
    });
    expect((await engine.queuesWithAvailable(['conformance', 'later', 'idle', 'other'])).sort()).toEqual([
      'conformance',
      'other',
    ]);
    expect(await engine.queuesWithAvailable([])).toEqual([]);
  });

  operation('read the database clock', async ({ engine }) => {
    const before = Date.now();
    const now = await engine.databaseTime();
    // The same server's clock as this process's, within a round trip.
    expect(now).toBeGreaterThan(before - 1000);
    expect(now).toBeLessThan(Date.now() + 1000);
  });

  operation('give back the jobs a live node holds but does not know of', async ({ engine }) => {
    await engine.insert({ rows: [row(), row(), row()] });
    const [known] = await engine.claim('conformance', 3, 'live');
    // Claimed a while ago, but only `known` reached the node.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const holdings = await engine.reconcileHoldings('live', [known!.id], 20);
    expect(holdings.givenBack).toBe(2);
    expect(holdings.executing).toEqual([known!.id]);
    const [lost] = await engine.allJobs({ state: 'available' });
    expect(lost).toMatchObject({ state: 'available', attempt: 0 });
    expect(lost!.errors[0]!.error).toContain('given back: node live');
    const [again] = await engine.claim('conformance', 1, 'live');
    expect(await engine.reconcileHoldings('live', [known!.id], 60_000)).toEqual({
      executing: [known!.id, again!.id].sort((a, b) => Number(a) - Number(b)),
      givenBack: 0,
    });
  });

  operation('cancel, retry and delete', async ({ engine }) => {
    const [a, b, c] = await engine.insert({ rows: [row(), row(), row({ worker: 'Other' })] });
    expect(await engine.cancel([a!.id, b!.id])).toBe(2);
    expect(await engine.cancel([a!.id])).toBe(0);
    expect(await engine.retry({ worker: 'ConformanceWorker' })).toBe(2);
    expect((await engine.getJob(a!.id))!).toMatchObject({ state: 'available', cancelledAt: null });
    expect(await engine.delete({ worker: 'Other' })).toBe(1);
    expect(await engine.getJob(c!.id)).toBeNull();
  });

  operation('prune finished jobs', async ({ engine, raw }) => {
    const [old, recent] = await engine.insert({ rows: [row(), row()] });
    await engine.ack(
      (await engine.claim('conformance', 2, 'conformance-node')).map((job) => ack(job, 'completed')),
    );
    // Completed jobs are in the history: one of them finished two days ago.
    await raw(
      `UPDATE koban.job_history SET completed_at = now() - interval '2 days', finished_at = now() - interval '2 days' WHERE id = ${old!.id}`,
    );
    expect(await engine.prune(86_400, 100)).toBe(1);
    expect(await engine.getJob(old!.id)).toBeNull();
    expect(await engine.getJob(recent!.id)).not.toBeNull();
  });

  operation('prune by retention rules', async ({ engine, raw }) => {
    const [plain, kept] = await engine.insert({ rows: [row(), row({ worker: 'KeptWorker' })] });
    await engine.ack(
      (await engine.claim('conformance', 2, 'conformance-node')).map((job) => ack(job, 'completed')),
    );
    await raw(`UPDATE koban.job_history SET finished_at = now() - interval '2 hours'`);
    expect(await engine.setPruneRule({ queue: 'conformance' }, 3600)).toMatchObject({
      queue: 'conformance',
      worker: null,
      state: null,
      maxAge: 3600,
    });
    await engine.setPruneRule({ worker: 'KeptWorker' }, 7200);
    expect(await engine.setPruneRule({ worker: 'KeptWorker' }, null)).toMatchObject({ maxAge: null });
    expect((await engine.listPruneRules()).map((rule) => [rule.worker, rule.queue, rule.maxAge])).toEqual([
      ['KeptWorker', null, null],
      [null, 'conformance', 3600],
    ]);
    expect(await engine.prune(86_400, 100)).toBe(1);
    expect(await engine.getJob(plain!.id)).toBeNull();
    expect(await engine.getJob(kept!.id)).not.toBeNull();
    expect(await engine.deletePruneRule({ worker: 'KeptWorker' })).toBe(true);
    expect(await engine.deletePruneRule({ worker: 'KeptWorker' })).toBe(false);
    expect(await engine.prune(86_400, 100)).toBe(1);
  });

  operation('age the priorities of waiting jobs', async ({ engine, raw }) => {
    const [waited, fresh, atFloor] = await engine.insert({
      rows: [row({ priority: 5 }), row({ priority: 5 }), row({ priority: 1 })],
    });
    await raw(
      `UPDATE koban.jobs SET scheduled_at = now() - interval '1 hour' WHERE id IN (${waited!.id}, ${atFloor!.id})`,
    );
    const scope = { afterSeconds: 60, floor: 1, limit: 10, queues: ['conformance'] };
    expect(await engine.agePriorities(scope)).toBe(1);
    expect(await engine.agePriorities({ ...scope, queues: null })).toBe(1);
    expect(await engine.agePriorities({ ...scope, queues: ['elsewhere'] })).toBe(0);
    expect((await engine.getJob(waited!.id))!.priority).toBe(3);
    expect((await engine.getJob(fresh!.id))!.priority).toBe(5);
    expect((await engine.getJob(atFloor!.id))!.priority).toBe(1);
  });

  operation('workflow and batch scopes', async ({ engine }) => {
    const workflowId = '0190e1b4-0000-7000-8000-00000000c0f0';
    const batchId = '0190e1b4-0000-7000-8000-00000000c0f1';
    const [step, member] = await engine.insert({
      rows: [row({ workflowId, workflowStep: 'only' }), row({ batchId })],
    });
    expect(await engine.availableIn({ workflowId })).toEqual([step!.id]);
    expect(await engine.availableIn({ batchId })).toEqual([member!.id]);
  });

  operation('queue state and signals', async ({ engine }) => {
    const signals: Signal[] = [];
    const unlisten = await engine.listenSignals((message) => signals.push(message));
    const woken: string[] = [];
    const unlistenInserts = await engine.listenInserts(
      (queue) => woken.push(queue),
      () => {},
    );
    await engine.storeQueueState('conformance', { paused: true });
    await engine.storeQueueState('conformance', { limit: 7 });
    await engine.storeQueueState('conformance', { flow: { global: 5, rateLimit: null } });
    const stored = await engine.storeQueueState('conformance', { flow: { global: 4 }, run: 'started' });
    const state = { paused: true, limit: 7, flow: { global: 4, rateLimit: null }, run: 'started' };
    expect(stored).toEqual(state);
    expect(await engine.readQueueStates()).toEqual(new Map([['conformance', state]]));
    await engine.signal({ action: 'scale', queue: 'conformance', limit: 7 });
    await engine.signal({ action: 'abort', ids: ['1', '2'] });
    await engine.insert({ rows: [row()] });
    await waitFor('the signals and the insert to be heard', () => signals.length === 2 && woken.length === 1);
    expect(signals).toEqual([
      { action: 'scale', queue: 'conformance', limit: 7 },
      { action: 'abort', ids: ['1', '2'] },
    ]);
    expect(woken).toEqual(['conformance']);
    await unlisten();
    await unlistenInserts();
    expect(engine.listens()).toBe(true);
    const [running, waiting] = await engine.insert({ rows: [row(), row()] });
    await engine.claimById([running!.id], 'conformance-node');
    expect(await engine.stillExecuting([running!.id, waiting!.id])).toEqual([running!.id]);
  });

  operation('claim within cluster-wide limits', async ({ engine }) => {
    await engine.insert({
      rows: [
        row({ args: { tenant: 'a' } as unknown as StoredArgs }),
        row({ args: { tenant: 'a' } as unknown as StoredArgs }),
        row({ args: { tenant: 'b' } as unknown as StoredArgs, meta: { koban_weight: 2 } }),
        row({ args: { tenant: 'c' } as unknown as StoredArgs }),
      ],
    });
    const flow = {
      global: 3,
      partition: { by: { args: ['tenant'] }, limit: 2, ordered: false, onFailure: 'skip' as const },
      rateLimit: { allowed: 10, periodMs: 60_000 },
    };
    // Partitions take turns: a's first, b's (weight 2) fills the global limit of 3.
    const first = await engine.claimLimited('conformance', 10, 'conformance-node', flow);
    expect(first.jobs.map((job) => (job.args as unknown as { tenant: string }).tenant)).toEqual(['a', 'b']);
    expect(first.held).toBe(true);
    expect(first.retryInMs).toBeGreaterThan(59_000);
    await engine.ack([ack(first.jobs[1]!, 'completed')]);
    const second = await engine.claimLimited('conformance', 10, 'conformance-node', flow);
    expect(second.jobs.map((job) => (job.args as unknown as { tenant: string }).tenant)).toEqual(['a', 'c']);
    const chain = {
      partition: { by: 'worker' as const, limit: 1, ordered: true, onFailure: 'hold' as const },
    };
    await engine.ack([...first.jobs.slice(0, 1), ...second.jobs].map((job) => ack(job, 'discarded')));
    await engine.insert({ rows: [row()] });
    // The worker's chain holds on its discarded links.
    const held = await engine.claimLimited('conformance', 10, 'conformance-node', chain);
    expect(held).toEqual({ jobs: [], held: true, retryInMs: null });
  });

  operation('give a slot back when its attempt ends, before the outcome is written', async ({ engine }) => {
    await engine.insert({ rows: [row(), row()] });
    const flow = { global: 1 };
    const [running] = (await engine.claimLimited('conformance', 5, 'conformance-node', flow)).jobs;
    expect((await engine.claimLimited('conformance', 5, 'conformance-node', flow)).jobs).toEqual([]);
    // The node says the attempt has ended: its row is still executing, its slot is free.
    const next = await engine.claimLimited('conformance', 5, 'conformance-node', flow, {
      finished: [running!.id],
    });
    expect(next.jobs).toHaveLength(1);
    expect(await engine.stillExecuting([running!.id, next.jobs[0]!.id])).toHaveLength(2);
  });

  operation('heartbeats and leadership', async ({ engine }) => {
    expect((await engine.beat('node-a', ['conformance', 'mail'], true)).created).toBe(true);
    await engine.beat('node-b', ['reports'], true);
    await engine.beat('node-a', ['conformance', 'mail'], false);
    expect([...(await engine.liveQueues(60_000))].sort()).toEqual(['conformance', 'mail', 'reports']);
    await engine.removeNode('node-b');
    expect([...(await engine.liveQueues(60_000))].sort()).toEqual(['conformance', 'mail']);
    expect(await engine.claimLeadership('node-a', 60_000)).toBe(true);
    expect(await engine.claimLeadership('node-b', 60_000)).toBe(false);
    expect(await engine.claimLeadership('node-a', 60_000)).toBe(true);
    await engine.resignLeadership('node-a');
    expect(await engine.claimLeadership('node-b', 60_000)).toBe(true);
  });

  operation('the operator view', async ({ engine }) => {
    const [a, b, c] = await engine.insert({
      rows: [row(), row({ queue: 'mail', args: { to: 'ann' } as never }), row({ worker: 'Other' })],
    });
    expect(await engine.cancel([a!.id], 'by hand')).toBe(1);
    expect((await engine.getJob(a!.id))!.errors).toMatchObject([{ attempt: 0, error: 'cancelled: by hand' }]);
    await engine.beat('node-a', ['conformance'], true, {
      queues: [{ queue: 'conformance', limit: 4, paused: false, running: 0 }],
      cron: [{ name: 'nightly', expression: '0 3 * * *', timezone: null, worker: 'ConformanceWorker' }],
    });
    expect(await engine.claimLeadership('node-a', 60_000)).toBe(true);
    const page = await engine.searchJobs({ queue: 'conformance' }, { limit: 1, before: undefined }, 5000);
    expect(page.jobs.map((job) => job.id)).toEqual([c!.id]);
    expect(page.next).not.toBeNull();
    expect(await engine.searchIds({ args: 'ANN' }, { limit: 10, before: undefined }, 5000)).toEqual([b!.id]);
    expect(await engine.searchIds({ state: ['available'] }, { limit: 10, before: c!.id }, 5000)).toEqual([
      b!.id,
    ]);
    expect(await engine.countJobs({ state: 'cancelled' }, 5000)).toBe(1);
    const counts = await engine.queueCounts();
    expect(counts.map((queue) => [queue.queue, queue.counts])).toEqual([
      ['conformance', { available: 1, cancelled: 1 }],
      ['mail', { available: 1 }],
    ]);
    const cluster = await engine.clusterNodes();
    expect(cluster.leader?.node).toBe('node-a');
    expect(cluster.nodes[0]!.report.cron![0]!.name).toBe('nightly');
    expect(await engine.lastCronRuns()).toEqual([]);
    expect(await engine.workflowSummaries(10)).toEqual([]);
    expect(await engine.batchSummaries(10)).toEqual([]);
  });

  operation('cron entries and tick claims', async ({ engine }) => {
    const entry = {
      name: 'conformance "nightly"',
      expression: '0 3 * * *',
      timezone: 'Europe/Paris',
      worker: 'ConformanceWorker',
      args: { n: 1 } as unknown as StoredArgs,
      options: { queue: 'conformance', priority: 2, tags: ['a'] },
      paused: false,
      guaranteed: true,
    };
    const empty = await engine.cronFingerprint();
    const stored = await engine.insertCronEntry(entry);
    expect(stored).toMatchObject({ ...entry, lastTick: null });
    const inserted = await engine.cronFingerprint();
    expect(inserted).not.toBe(empty);
    expect(stored!.changedAt).toBeInstanceOf(Date);
    expect(await engine.insertCronEntry({ ...entry, expression: '@hourly' })).toBeNull();
    const tick = new Date(Date.UTC(2026, 0, 1, 2));
    const [first, again] = await engine.transaction(async (tx) => [
      await engine.claimCronTick(entry.name, tick, tx),
      await engine.claimCronTick(entry.name, tick, tx),
    ]);
    expect([first, again]).toEqual([true, false]);
    // A claimed tick is no change of the entries; an update is.
    expect(await engine.cronFingerprint()).toBe(inserted);
    const paused = await engine.updateCronEntry(entry.name, { paused: true, timezone: null });
    expect(await engine.cronFingerprint()).not.toBe(inserted);
    expect(paused).toMatchObject({ paused: true, timezone: null, expression: '0 3 * * *' });
    expect(paused!.lastTick!.getTime()).toBe(tick.getTime());
    // A paused entry's ticks cannot be claimed.
    const later = new Date(tick.getTime() + 86_400_000);
    expect(await engine.transaction((tx) => engine.claimCronTick(entry.name, later, tx))).toBe(false);
    const resumed = await engine.updateCronEntry(entry.name, { paused: false });
    expect(resumed!.changedAt.getTime()).toBeGreaterThanOrEqual(paused!.changedAt.getTime());
    expect(await engine.updateCronEntry('missing', { paused: false })).toBeNull();
    expect((await engine.listCronEntries()).map((listed) => listed.name)).toEqual([entry.name]);
    const beforeDelete = await engine.cronFingerprint();
    expect(await engine.deleteCronEntry(entry.name)).toBe(true);
    expect(await engine.cronFingerprint()).not.toBe(beforeDelete);
    expect(await engine.deleteCronEntry(entry.name)).toBe(false);
    expect(await engine.listCronEntries()).toEqual([]);
  });

  operation('schema', async ({ engine }) => {
    const result = await engine.migrate();
    expect(result.from).toBe(result.to);
    await engine.verifySchema();
  });
});

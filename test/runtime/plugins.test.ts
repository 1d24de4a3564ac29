import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  defineWorker,
  type Job,
  type JobExceptionEvent,
  type JobStartEvent,
  type JobStopEvent,
  newJob,
} from '../../index.js';
import type { Database } from '../../runtime/database/database.js';
import { openDatabase } from '../../runtime/database/open-database.js';
import { BasicEngine, engineContext } from '../../runtime/engine/engines/basic.js';
import { freshDatabase } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';

class EventWorker {
  async process(job: Job<{ fail: boolean; ms: number }>) {
    await new Promise((resolve) => setTimeout(resolve, job.args.ms));
    if (job.args.fail) throw new Error('event failure');
    return { ok: true };
  }
}
defineWorker(EventWorker, { queue: 'events', maxAttempts: 3 });

let url: string;
let sql: postgres.Sql;
let database: Database;
let engine: BasicEngine;

beforeAll(async () => {
  url = await freshDatabase();
  sql = postgres(url, { max: 2, onnotice: () => {} });
  database = await openDatabase(url, { poolSize: 2 });
  engine = new BasicEngine(engineContext(database, 'koban'));
});

afterAll(async () => {
  await database?.close();
  await sql?.end();
});

/** Inserts a job row directly, with any state and timestamps. */
async function row(fields: { state: string; queue?: string; scheduled?: string; finished?: string }) {
  const finishedColumn = { completed: 'completed_at', cancelled: 'cancelled_at', discarded: 'discarded_at' }[
    fields.state
  ];
  const [inserted] = await sql<{ id: string }[]>`
    INSERT INTO koban.jobs (worker, queue, state, scheduled_at)
    VALUES ('RawWorker', ${fields.queue ?? 'plugins'}, ${fields.state}, now() + ${fields.scheduled ?? '0 s'}::interval)
    RETURNING id`;
  const id = String(inserted!.id);
  if (finishedColumn) {
    await sql`UPDATE koban.jobs SET ${sql(finishedColumn)} = now() + ${fields.finished ?? '0 s'}::interval
      WHERE id = ${id}`;
  }
  return id;
}

async function states(ids: readonly string[]): Promise<Record<string, string>> {
  const rows = await sql<{ id: string; state: string }[]>`
    SELECT id::text, state FROM koban.all_jobs WHERE id = ANY(${ids}::bigint[])`;
  return Object.fromEntries(rows.map((r) => [r.id, r.state]));
}

describe('stager', () => {
  it('makes due scheduled and retryable jobs available, not future ones, and wakes their queues', async () => {
    const woken: string[] = [];
    const listener = await sql.listen('koban_insert', (queue) => woken.push(queue));
    const dueScheduled = await row({ state: 'scheduled', queue: 'stage-a', scheduled: '-1 s' });
    const dueRetryable = await row({ state: 'retryable', queue: 'stage-b', scheduled: '-1 hour' });
    const futureScheduled = await row({ state: 'scheduled', scheduled: '1 hour' });
    const futureRetryable = await row({ state: 'retryable', scheduled: '10 s' });
    const completed = await row({ state: 'completed', scheduled: '-1 hour' });

    expect(await engine.stage()).toBe(2);
    expect(await states([dueScheduled, dueRetryable, futureScheduled, futureRetryable, completed])).toEqual({
      [dueScheduled]: 'available',
      [dueRetryable]: 'available',
      [futureScheduled]: 'scheduled',
      [futureRetryable]: 'retryable',
      [completed]: 'completed',
    });
    await waitFor('both queues to be notified', () => woken.includes('stage-a') && woken.includes('stage-b'));
    await listener.unlisten();
    expect(await engine.stage()).toBe(0);
  });
});

describe('pruner', () => {
  it('deletes finished jobs older than maxAge and keeps newer and unfinished ones', async () => {
    const old = await Promise.all(
      ['completed', 'cancelled', 'discarded'].map((state) => row({ state, finished: '-2 hours' })),
    );
    const recent = await Promise.all(
      ['completed', 'cancelled', 'discarded'].map((state) => row({ state, finished: '-10 minutes' })),
    );
    const unfinished = await Promise.all(
      ['available', 'scheduled', 'retryable', 'executing'].map((state) =>
        row({ state, scheduled: '-3 hours' }),
      ),
    );
    expect(await engine.prune(3600, 1000)).toBe(3);
    const left = await states([...old, ...recent, ...unfinished]);
    expect(Object.keys(left).sort()).toEqual([...recent, ...unfinished].sort());
  });

  it('deletes at most `limit` jobs per run', async () => {
    await Promise.all(
      [1, 2, 3].map(() => row({ state: 'completed', queue: 'limited', finished: '-2 days' })),
    );
    expect(await engine.prune(3600, 2)).toBe(2);
    expect(await engine.prune(3600, 2)).toBe(1);
    expect(await engine.prune(3600, 2)).toBe(0);
  });

  it('runs on a started node with a short interval', async () => {
    const old = await row({ state: 'completed', finished: '-5 minutes' });
    const fresh = await row({ state: 'completed' });
    await startKoban({ database: url, queues: {}, prune: { maxAge: 60, interval: 100 } });
    await waitFor('the old job to be pruned', async () => !(old in (await states([old]))));
    expect(await states([fresh])).toEqual({ [fresh]: 'completed' });
  });
});

describe('events', () => {
  it('reports job:start, job:stop and job:exception with queueTime and runTime', async () => {
    const koban = await startKoban({ database: url, queues: { events: 2 } });
    const starts: JobStartEvent[] = [];
    const stops: JobStopEvent[] = [];
    const exceptions: JobExceptionEvent[] = [];
    koban.on('job:start', (event) => starts.push(event));
    koban.on('job:stop', (event) => stops.push(event));
    koban.on('job:exception', (event) => exceptions.push(event));

    const ok = await koban.insert(newJob(EventWorker, { fail: false, ms: 60 }), {
      scheduledAt: new Date(Date.now() - 5000),
    });
    const bad = await koban.insert(newJob(EventWorker, { fail: true, ms: 10 }));
    await waitFor('both jobs to report', () => stops.length === 1 && exceptions.length === 1);

    expect(starts.map((event) => event.job.id).sort()).toEqual([ok.id, bad.id].sort());
    const okStart = starts.find((event) => event.job.id === ok.id)!;
    expect(okStart.queueTime).toBeGreaterThanOrEqual(4500);
    expect(okStart.job.state).toBe('executing');

    const [stop] = stops;
    expect(stop!.job.id).toBe(ok.id);
    expect(stop!.outcome).toEqual({ kind: 'completed', result: { ok: true } });
    expect(stop!.runTime).toBeGreaterThanOrEqual(50);
    expect(stop!.queueTime).toBe(okStart.queueTime);

    const [exception] = exceptions;
    expect(exception!.job.id).toBe(bad.id);
    expect((exception!.error as Error).message).toBe('event failure');
    expect(exception!.outcome).toMatchObject({ kind: 'error', state: 'retryable' });
    for (const event of [...starts, ...stops, ...exceptions]) {
      expect(Number.isFinite(event.queueTime) && event.queueTime >= 0).toBe(true);
    }
    for (const event of [...stops, ...exceptions]) expect(Number.isFinite(event.runTime)).toBe(true);
  });

  it('does not fail a job when a listener throws, and reports the listener error', async () => {
    const koban = await startKoban({ database: url, queues: { events: 2 } });
    const errors: { source: string; error: unknown }[] = [];
    koban.on('error', (event) => errors.push(event));
    koban.on('job:start', () => {
      throw new Error('metrics are broken');
    });
    koban.on('job:stop', () => {
      throw new Error('metrics are still broken');
    });
    const job = await koban.insert(newJob(EventWorker, { fail: false, ms: 1 }));
    const done = await waitFor('the job to complete', async () => {
      const current = await koban.getJob(job.id);
      return current?.state === 'completed' ? current : null;
    });
    expect(done.errors).toEqual([]);
    expect(errors.map((event) => event.source).sort()).toEqual([
      'listener of job:start',
      'listener of job:stop',
    ]);
  });
});

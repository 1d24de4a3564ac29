import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineWorker, type Job, Koban, newJob } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { quietLogger } from '../support/wait.js';
import { sleep } from './support/cluster.js';

// Clock skew used to make cron run early and twice (a node 10 minutes ahead inserted ticks 600 s
// early, and a once-a-second entry made 35 jobs in 18 s), and a job with `scheduleIn: 60` from a
// node 10 minutes behind ran at once. The node's clock is shifted here with a shim of Date (its
// timers run as usual); cron and scheduleIn now go by the database's clock.

class SkewWorker {
  async process(_job: Job) {}
}
defineWorker(SkewWorker, { queue: 'skew' });

const nodes: Koban[] = [];
afterEach(async () => {
  await Promise.allSettled(nodes.splice(0).map((koban) => koban.stop()));
  vi.useRealTimers();
});

/** Shifts this process's clock by `ms`; it keeps ticking. */
function skewClock(ms: number): void {
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true, now: Date.now() + ms });
}

const tenMinutes = 600_000;

describe('a node whose clock is off by ten minutes', () => {
  it('schedules scheduleIn from the database clock when it is behind', async () => {
    const url = await freshDatabase();
    skewClock(-tenMinutes);
    const koban = await Koban.start({
      database: url,
      queues: {},
      workers: [SkewWorker],
      logger: quietLogger,
    });
    nodes.push(koban);
    const job = await koban.insert(newJob(SkewWorker, {}, { scheduleIn: 60 }));
    const [row] = await withSql(
      url,
      (sql) => sql<{ state: string; inSeconds: number }[]>`
        SELECT state, extract(epoch FROM scheduled_at - now())::float8 AS "inSeconds" FROM koban.jobs WHERE id = ${job.id}`,
    );
    // Before: due 540 s in the past, so it ran at once.
    expect(row!.state).toBe('scheduled');
    expect(row!.inSeconds).toBeGreaterThan(50);
    expect(row!.inSeconds).toBeLessThan(65);
  });

  it('fires cron ticks by the database clock when it is ahead', async () => {
    const url = await freshDatabase();
    skewClock(tenMinutes);
    const koban = await Koban.start({
      database: url,
      queues: {},
      workers: [SkewWorker],
      logger: quietLogger,
      cron: [{ expression: '* * * * * *', worker: SkewWorker }],
    });
    nodes.push(koban);
    await sleep(5000);
    const rows = await withSql(
      url,
      (sql) => sql<{ early: number }[]>`
        SELECT extract(epoch FROM (meta->>'cronTick')::timestamptz - inserted_at)::float8 AS early
        FROM koban.all_jobs WHERE worker = 'SkewWorker'`,
    );
    // One job a second, each inserted at (or just after) its tick: before, 600 s before it.
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(rows.length).toBeLessThanOrEqual(7);
    for (const row of rows) expect(row.early).toBeLessThan(1.5);
  });
});

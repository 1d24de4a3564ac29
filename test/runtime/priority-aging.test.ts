import { beforeEach, describe, expect, it } from 'vitest';
import { defineWorker, type Job, Koban, KobanConfigError, newJob, priorityAging } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { quietLogger, waitFor } from '../support/wait.js';

// Priority aging (DynamicPrioritizer): jobs that waited longer than `after` are raised one step a
// run, down to `floor`, so low-priority jobs are not starved.

class Aged {
  async process(_job: Job<{ name: string }>) {}
}
defineWorker(Aged, { queue: 'aging' });

let url: string;
beforeEach(async () => {
  url = await freshDatabase();
});

const priorities = () =>
  withSql(url, async (sql) => {
    const rows = await sql<{ name: string; priority: number }[]>`
      SELECT args ->> 'name' AS name, priority FROM koban.jobs ORDER BY 1`;
    return Object.fromEntries(rows.map((row) => [row.name, row.priority]));
  });

const backdate = (names: readonly string[]) =>
  withSql(
    url,
    (sql) =>
      sql`UPDATE koban.jobs SET scheduled_at = now() - interval '1 hour' WHERE args ->> 'name' = ANY(${names})`,
  );

describe('priority aging', () => {
  it('raises jobs that waited past `after` one step a run, down to the floor, in its queues only', async () => {
    const koban = await startKoban({
      database: url,
      // Nothing runs: the jobs wait.
      queues: { aging: { limit: 1, paused: true } },
      plugins: [priorityAging({ after: 60, interval: 100, floor: 2, queues: ['aging'] })],
    });
    await koban.insertAll([
      newJob(Aged, { name: 'old9' }, { priority: 9 }),
      newJob(Aged, { name: 'old4' }, { priority: 4 }),
      newJob(Aged, { name: 'old1' }, { priority: 1 }),
      newJob(Aged, { name: 'fresh' }, { priority: 9 }),
      newJob(Aged, { name: 'elsewhere' }, { priority: 9, queue: 'other' }),
    ]);
    await backdate(['old9', 'old4', 'old1', 'elsewhere']);
    await waitFor('old9 to reach the floor', async () => (await priorities()).old9 === 2, 60_000);
    expect(await priorities()).toEqual({ old9: 2, old4: 2, old1: 1, fresh: 9, elsewhere: 9 });
    // Later runs (enough to raise fresh from 9 to 2) leave the others at the floor.
    await backdate(['fresh']);
    await waitFor('fresh to reach the floor', async () => (await priorities()).fresh === 2, 60_000);
    expect(await priorities()).toEqual({ old9: 2, old4: 2, old1: 1, fresh: 2, elsewhere: 9 });
  }, 120_000);

  it('refuses bad options when the node starts', async () => {
    const start = (options: Parameters<typeof priorityAging>[0]) =>
      Koban.start({ database: url, logger: quietLogger, plugins: [priorityAging(options)] });
    await expect(start({ after: -1 })).rejects.toThrow(
      'priorityAging: after must be a number of seconds of at least 0, got -1',
    );
    await expect(start({ after: 60, floor: 10 })).rejects.toThrow(KobanConfigError);
    await expect(start({ after: 60, interval: 0 })).rejects.toThrow(/interval must be a whole number/);
    await expect(start({ after: 60, queues: ['bad name'] })).rejects.toThrow(/queue must be a name/);
  });
});

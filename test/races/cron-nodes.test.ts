import { beforeAll, describe, expect, it } from 'vitest';
import { Koban, KobanConfigError } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { quietLogger, waitFor } from '../support/wait.js';
import { spawnNode } from './support/processes.js';
import { CronTickWorker } from './support/workers.js';

// Every node fires every cron entry; the tick's unique key makes its job exist once however many
// nodes fire it.

let url: string;
beforeAll(async () => {
  url = await freshDatabase();
});

async function ticks(since: Date) {
  return withSql(
    url,
    (sql) => sql<{ tick: string; jobs: number }[]>`
      SELECT meta->>'cronTick' AS tick, count(*)::int AS jobs FROM koban.all_jobs
      WHERE worker = 'CronTickWorker' AND (meta->>'cronTick')::timestamptz > ${since}
      GROUP BY 1 ORDER BY 1`,
  );
}

describe('cron with two nodes', () => {
  it('inserts one job per tick, whichever node fires first', async () => {
    const [a, b] = await Promise.all([
      spawnNode({ url, node: 'cron-a', queues: { cron: 2 }, cronEverySecond: true }),
      spawnNode({ url, node: 'cron-b', queues: { cron: 2 }, cronEverySecond: true }),
    ]);
    const bothUp = new Date();
    await waitFor('three ticks with both nodes up', async () => (await ticks(bothUp)).length >= 3, 30_000);
    await Promise.all([a.stop(), b.stop()]);

    const seen = await ticks(bothUp);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.filter((tick) => tick.jobs !== 1)).toEqual([]);
    // Both nodes key a tick by its scheduled second, not by when their timer happened to fire.
    expect(seen.every((tick) => Date.parse(tick.tick) % 1000 === 0)).toBe(true);
    // The losing node's insert is a quiet conflict, not an error.
    expect(a.stderr + b.stderr).not.toMatch(/failed/);
  });

  it('accepts entries with a time zone, and runs them', async () => {
    const koban = await startKoban({
      database: url,
      cron: [
        { expression: '0 9 * * *', timezone: 'Europe/Paris', worker: CronTickWorker, name: 'paris-9am' },
        { expression: '* * * * * *', timezone: 'Asia/Kolkata', worker: CronTickWorker, name: 'kolkata' },
      ],
    });
    const job = await waitFor('a job of the Kolkata entry', async () => {
      const jobs = await koban.listJobs({ worker: 'CronTickWorker' });
      return jobs.find((job) => job.meta.cron === 'kolkata');
    });
    expect(job.meta.cronTick).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
  });

  const start = (expression: string, timezone?: string) =>
    Koban.start({
      database: url,
      node: 'bad-cron',
      logger: quietLogger,
      cron: [
        { expression: '@hourly', worker: CronTickWorker },
        { expression, worker: CronTickWorker, ...(timezone ? { timezone } : {}) },
      ],
    });

  it('refuses a bad expression at start, naming the entry', async () => {
    const bad = start('61 * * * *');
    await expect(bad).rejects.toBeInstanceOf(KobanConfigError);
    await expect(bad).rejects.toThrow(/^cron\[1\]: invalid cron expression "61 \* \* \* \*"/);
  });

  it('refuses an unknown time zone at start, naming the entry, and leaves no node behind', async () => {
    const badZone = start('0 9 * * *', 'Mars/Olympus');
    await expect(badZone).rejects.toBeInstanceOf(KobanConfigError);
    await expect(badZone).rejects.toThrow(
      /^cron\[1\]: invalid cron expression "0 9 \* \* \*" or timezone "Mars\/Olympus"/,
    );
    const nodes = await withSql(url, (sql) => sql`SELECT name FROM koban.nodes WHERE name = 'bad-cron'`);
    expect(nodes).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Koban } from '../../index.js';
import { CronPing, CronReport, cronWorkers } from '../cron/workers.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { quietLogger, waitFor } from '../support/wait.js';

// Three nodes share stored cron entries: each tick is claimed in the transaction that inserts
// its job, so it fires once; a guaranteed entry inserts the newest tick missed during an outage
// exactly once, and @reboot entries run once, on the leader.

let url: string;
const nodes: Koban[] = [];

beforeAll(async () => {
  url = await freshDatabase();
});
afterAll(async () => {
  await Promise.allSettled(nodes.map((node) => node.stop()));
});

const start = (name: string) =>
  Koban.start({
    database: url,
    node: name,
    logger: quietLogger,
    workers: cronWorkers,
    heartbeatInterval: 300,
    rescueAfter: 1000,
    blockTolerance: 100,
    // Frequent reads: every node races for every missed tick it sees.
    cronSyncInterval: 150,
    cron: [{ expression: '@reboot', worker: CronPing, name: 'configured-boot' }],
  });

async function jobCounts() {
  return withSql(
    url,
    (sql) => sql<{ cron: string; tick: string; jobs: number }[]>`
      SELECT meta->>'cron' AS cron, meta->>'cronTick' AS tick, count(*)::int AS jobs FROM koban.all_jobs
      WHERE meta ? 'cron' GROUP BY 1, 2 ORDER BY 1, 2`,
  );
}

describe('stored cron on three nodes', () => {
  it('fires each tick once, catches up a missed guaranteed tick once, and runs @reboot on the leader only', async () => {
    // Entries made while no node runs them, by a node that runs nothing.
    const admin = await Koban.start({ database: url, logger: quietLogger, testing: 'manual' });
    nodes.push(admin);
    const hourly = { expression: '0 * * * *', worker: CronReport, args: { kind: 'daily' as const } };
    await admin.cron.insert({ name: 'guaranteed-hourly', guaranteed: true, ...hourly });
    await admin.cron.insert({ name: 'plain-hourly', ...hourly });
    await admin.cron.insert({ name: 'every-second', expression: '* * * * * *', worker: CronPing });
    await admin.cron.insert({ name: 'stored-boot', expression: '@reboot', worker: CronPing });
    // An outage: the hourly entries last fired three hours ago.
    await withSql(
      url,
      (sql) => sql`
        UPDATE koban.cron_entries SET last_tick = date_trunc('hour', now()) - interval '3 hours',
          changed_at = now() - interval '5 hours'
        WHERE name LIKE '%-hourly'`,
    );
    const before = new Date();
    nodes.push(...(await Promise.all(['cron-1', 'cron-2', 'cron-3'].map(start))));
    await waitFor(
      'three ticks of the every-second entry',
      async () => (await jobCounts()).filter((row) => row.cron === 'every-second').length >= 3,
      20_000,
    );
    await waitFor('a leader', () => nodes.some((node) => node.isLeader));
    // Time for the other nodes' reads and ticks to race the winners.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const counts = await jobCounts();

    const missedTick = new Date(Math.floor(before.getTime() / 3_600_000) * 3_600_000).toISOString();
    expect(counts.filter((row) => row.cron === 'guaranteed-hourly')).toEqual([
      { cron: 'guaranteed-hourly', tick: missedTick, jobs: 1 },
    ]);
    // Without guaranteed, a missed tick stays missed (only a tick after the nodes started could show).
    expect(
      counts.filter((row) => row.cron === 'plain-hourly' && Date.parse(row.tick) < before.getTime()),
    ).toEqual([]);
    const seconds = counts.filter((row) => row.cron === 'every-second');
    expect(seconds.length).toBeGreaterThanOrEqual(3);
    expect(seconds.filter((row) => row.jobs !== 1)).toEqual([]);
    expect(counts.filter((row) => row.cron.endsWith('-boot'))).toEqual([
      { cron: 'configured-boot', tick: '@reboot', jobs: 1 },
      { cron: 'stored-boot', tick: '@reboot', jobs: 1 },
    ]);
    const [entry] = await withSql(
      url,
      (sql) => sql<{ tick: string }[]>`
        SELECT to_char(last_tick AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS tick
        FROM koban.cron_entries WHERE name = 'guaranteed-hourly'`,
    );
    expect(entry!.tick).toBe(missedTick);
  });
});

import { beforeEach, describe, expect, it } from 'vitest';
import { defineWorker, type Job, newJob } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { pinHorizon } from '../support/pinned-horizon.js';
import { waitFor } from '../support/wait.js';

// While claims come back full, a producer's next claim starts past the last job it took
// (runtime/node/claim-floor.ts): with the xmin horizon pinned, claimed jobs' index entries stay,
// and claims from the head would visit all of them. Jobs that become available behind the floor
// are still claimed: at once after a NOTIFY, within a second without one. A queue with a
// cluster-wide limit, whose claims cut the queue from the front, starts its claims past it too.

const ran: string[] = [];

class Floored {
  async process(job: Job<{ name: string }>) {
    ran.push(job.args.name);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
defineWorker(Floored, { queue: 'floored' });

let url: string;
beforeEach(async () => {
  url = await freshDatabase();
  ran.length = 0;
});

/** Index entries the claims have read from the fetch index, flushed by the sessions that ended. */
const fetchIndexReads = () =>
  withSql(url, async (sql) => {
    const [row] = await sql<{ read: string }[]>`
      SELECT idx_tup_read::text AS read FROM pg_stat_user_indexes
      WHERE schemaname = 'koban' AND indexrelname = 'jobs_fetch_idx'`;
    return Number(row!.read);
  });

const queues = {
  plain: (limit: number) => ({ floored: limit }),
  'cluster-wide limit': (limit: number) => ({ floored: { limit, global: { limit } } }),
};

describe.each(Object.entries(queues))('the claim floor of a queue with a %s', (_kind, queue) => {
  it('keeps the claims of a small limit off the entries of claimed jobs while the xmin horizon is pinned', async () => {
    const count = 2000;
    const setup = await startKoban({ database: url, queues: {} });
    await setup.insertAll(Array.from({ length: count }, (_, n) => newJob(Floored, { name: `j${n}` })));
    await setup.stop();
    // A transaction that holds its snapshot: no claimed job's index entry can be marked dead.
    const release = await pinHorizon(url);
    try {
      const before = await fetchIndexReads();
      // Claims of 5 (two in flight share the limit of 10): from the head, the k-th would read
      // the 5k entries before it, about count² / 10 = 400,000 in all.
      const koban = await startKoban({ database: url, queues: queue(10) });
      await waitFor('every job to run', async () => ran.length === count, 60_000);
      await koban.stop();
      await waitFor('the claims to be counted', async () => (await fetchIndexReads()) - before >= count);
      const read = (await fetchIndexReads()) - before;
      // Past the floor each claim reads the 5 it takes; a claim from the head goes out at most
      // once a second, and reads at most the 2,000.
      expect(read).toBeLessThan(count * 20);
      expect(new Set(ran).size).toBe(count);
    } finally {
      await release();
    }
  }, 90_000);

  it('claims a job that became available behind the floor, after its NOTIFY or within a second without one', async () => {
    const koban = await startKoban({ database: url, queues: queue(2) });
    await koban.pauseQueue('floored');
    await koban.insertAll(
      Array.from({ length: 1000 }, (_, n) => newJob(Floored, { name: `low${n}` }, { priority: 5 })),
    );
    await koban.resumeQueue('floored');
    await waitFor('the backlog to be running', async () => ran.length >= 20);
    // A job of higher priority, inserted with its NOTIFY: the next claim looks from the head.
    await koban.insert(newJob(Floored, { name: 'urgent' }, { priority: 0 }));
    await waitFor('the urgent job to run', async () => ran.includes('urgent'), 10_000);
    expect(ran.filter((name) => name.startsWith('low')).length).toBeLessThan(1000);
    // A job put back behind the floor by hand, with no NOTIFY: found by a claim from the head.
    await withSql(
      url,
      (sql) => sql`
        INSERT INTO koban.jobs (queue, worker, args, priority, scheduled_at)
        VALUES ('floored', 'Floored', '{"name": "behind"}', 0, now() - interval '1 hour')`,
    );
    await waitFor('the job behind the floor to run', async () => ran.includes('behind'), 10_000);
    expect(ran.filter((name) => name.startsWith('low')).length).toBeLessThan(1000);
    await waitFor('the backlog to finish', async () => ran.length === 1002, 30_000);
    expect(new Set(ran).size).toBe(1002);
  }, 60_000);
});

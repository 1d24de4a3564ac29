import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newJob } from '../../index.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';
import { Cluster, sleep } from './support/cluster.js';
import { ChaosWorker, insertChaosJobs } from './support/workers.js';

// Defect 7 of issue 11: a NOTIFY sent while the node's LISTEN connection is down is lost, and the
// job it announced waited for the next poll (28 s with a 30 s poll interval). Once the node
// listens again, every producer now polls at once.

let cluster: Cluster;
beforeAll(async () => {
  cluster = await Cluster.create();
}, 120_000);
afterAll(() => cluster?.destroy());

describe('wake-ups sent while the LISTEN connection is down', () => {
  it('are made up for by a poll of every queue as soon as the node listens again', async () => {
    const database = 'relisten';
    const url = await cluster.createDatabase(database);
    // A poll interval far longer than the test: only a wake-up can start the job in time.
    const koban = await startKoban({
      database: url,
      queues: { chaos: 2 },
      workers: [ChaosWorker],
      pollInterval: 120_000,
    });
    const first = await koban.insert(newJob(ChaosWorker, {}));
    await waitFor('a job woken by NOTIFY', async () => (await koban.getJob(first.id))?.state === 'completed');

    // The inserter's connection predates the block, so it keeps working.
    const inserter = postgres(url, { max: 1, fetch_types: false, onnotice: () => {} });
    const [own] = await inserter<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
    try {
      await cluster.admin(async (sql) => {
        await sql.unsafe(`ALTER DATABASE ${database} ALLOW_CONNECTIONS false`);
        await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                  WHERE datname = ${database} AND pid <> ${own!.pid}`;
      });
      await sleep(500); // the node tries to listen again, and is refused
      await inserter.unsafe(insertChaosJobs(1)); // its NOTIFY reaches no one
      const [missed] = await inserter<{ id: string }[]>`SELECT max(id)::text AS id FROM koban.all_jobs`;
      await sleep(500);
      const reopened = Date.now();
      await cluster.admin((sql) => sql.unsafe(`ALTER DATABASE ${database} ALLOW_CONNECTIONS true`));

      await waitFor(
        'the job announced while the node was not listening',
        async () => (await koban.getJob(missed!.id))?.state === 'completed',
        30_000,
      );
      const startedAfterMs = Date.now() - reopened;
      console.info(
        `[chaos] missed wake-up made up ${startedAfterMs} ms after the database accepted connections`,
      );
      // Without the poll on re-listen, it waited for the 120 s poll.
      expect(startedAfterMs).toBeLessThan(15_000);
    } finally {
      await cluster.admin((sql) => sql.unsafe(`ALTER DATABASE ${database} ALLOW_CONNECTIONS true`));
      await inserter.end({ timeout: 1 });
    }
  }, 90_000);
});

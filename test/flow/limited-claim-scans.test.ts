import { beforeEach, describe, expect, it } from 'vitest';
import { defineWorker, type Job, newJob } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { pinHorizon } from '../support/pinned-horizon.js';
import { waitFor } from '../support/wait.js';

// What the claims of a queue with a cluster-wide limit read of the indexes (runtime/engine/flow-claim.ts),
// counted by pg_stat_user_indexes. Autovacuum is off on the jobs table, so that only the claims
// themselves can mark entries dead, and the statistics stay those of the empty table.

let ran = 0;

class Limited {
  async process(_job: Job<{ n: number }>) {
    ran++;
  }
}
defineWorker(Limited, { queue: 'limited' });

const queues = { limited: { limit: 10, global: { limit: 10 } } };
const count = 2000;

let url: string;
beforeEach(async () => {
  url = await freshDatabase();
  ran = 0;
});

/** Entries read from an index, as flushed by the sessions that ended. */
const indexReads = (index: string) =>
  withSql(url, async (sql) => {
    const [row] = await sql<{ read: string }[]>`
      SELECT idx_tup_read::text AS read FROM pg_stat_user_indexes
      WHERE schemaname = 'koban' AND indexrelname = ${index}`;
    return Number(row!.read);
  });

/** Inserts `count` jobs, runs them all at the limit, and returns what the claims read of `index`. */
async function runBacklog(index: string): Promise<number> {
  const setup = await startKoban({ database: url, queues: {} });
  await setup.insertAll(Array.from({ length: count }, (_, n) => newJob(Limited, { n })));
  await setup.stop();
  const before = await indexReads(index);
  ran = 0;
  const koban = await startKoban({ database: url, queues });
  await waitFor('every job to run', async () => ran === count, 60_000);
  await koban.stop();
  await waitFor('the reads to be counted', async () => (await indexReads(index)) > before);
  return (await indexReads(index)) - before;
}

async function analyzedEmpty(): Promise<void> {
  const koban = await startKoban({ database: url, queues: {} });
  await koban.stop();
  await withSql(url, async (sql) => {
    await sql`ALTER TABLE koban.jobs SET (autovacuum_enabled = false)`;
    await sql`ANALYZE koban.jobs`;
  });
}

describe('the claims of a queue with a cluster-wide limit', () => {
  it('read a backlog grown since the last analyze in order, not the whole fetch index per claim', async () => {
    await analyzedEmpty();
    // Locked through their ids, the planner, sure from the statistics that the fetch index is
    // empty, read all of it on each claim: 411,848 entries in one run.
    const read = await runBacklog('jobs_fetch_idx');
    expect(read).toBeLessThan(count * 10);
  }, 90_000);

  it('count the executing jobs without re-reading, once a pinned horizon is released, the entries it kept', async () => {
    await analyzedEmpty();
    const release = await pinHorizon(url);
    try {
      // Each job run under the pin leaves an entry in jobs_executing_idx that nothing can remove.
      await runBacklog('jobs_executing_idx');
    } finally {
      await release();
    }
    // A bitmap scan read all of them on every claim and never marked one dead: 898,868 entries in
    // one run. An index scan marks them as it passes, once.
    const read = await runBacklog('jobs_executing_idx');
    expect(read).toBeLessThan(count * 10);
  }, 120_000);
});

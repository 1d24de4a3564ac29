import { beforeAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, newJob } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';

// One tenant with a backlog of 10,000 jobs, inserted first, and 100 tenants with 10 jobs each:
// partitions take turns within each claim, and a full partition is skipped even when its backlog
// fills the head of the queue, so the small tenants are done long before the large one instead of
// waiting behind its backlog.

class TenantWork {
  async process(_job: Job<{ tenant: string }>) {}
}
defineWorker(TenantWork, { queue: 'tenants' });

let url: string;
beforeAll(async () => {
  url = await freshDatabase();
});

describe('fairness between partitions', () => {
  it('finishes 100 small partitions long before one with a backlog of 10,000', {
    timeout: 240_000,
  }, async () => {
    const koban = await startKoban({
      database: url,
      workers: [TenantWork],
      queues: {
        tenants: { limit: 20, global: { limit: 20 }, partition: { by: { args: ['tenant'] }, limit: 5 } },
      },
      pollInterval: 50,
    });
    await koban.pauseQueue('tenants');
    await koban.insertAll(Array.from({ length: 10_000 }, () => newJob(TenantWork, { tenant: 'big' })));
    await koban.insertAll(
      Array.from({ length: 1000 }, (_, index) => newJob(TenantWork, { tenant: `small-${index % 100}` })),
    );
    const started = await withSql(
      url,
      async (sql) => (await sql<{ at: number }[]>`SELECT ${Date.now()}::float8 AS at`)[0]!.at,
    );
    await koban.resumeQueue('tenants');
    await waitFor(
      'every job to complete',
      () =>
        withSql(url, async (sql) => {
          const [row] = await sql<{ left: number }[]>`SELECT count(*)::int AS left FROM koban.jobs`;
          return row!.left === 0;
        }),
      200_000,
    );
    const finished = await withSql(
      url,
      (sql) =>
        sql<{ tenant: string; last: number }[]>`
        SELECT args->>'tenant' AS tenant, date_part('epoch', max(completed_at)) * 1000 - ${started} AS last
        FROM koban.job_history GROUP BY 1`,
    );
    const big = finished.find((row) => row.tenant === 'big')!.last;
    const small = finished.filter((row) => row.tenant !== 'big').map((row) => row.last);
    expect(small).toHaveLength(100);
    const lastSmall = Math.max(...small);
    console.log(
      `fairness: the last of 100 small partitions finished at ${Math.round(lastSmall)} ms, ` +
        `the backlog of 10,000 at ${Math.round(big)} ms (${((lastSmall / big) * 100).toFixed(1)}%)`,
    );
    // The backlog holds 5 of the 20 slots and the small partitions the other 15, so a fair share
    // runs about 1,000 × 5 / 15 ≈ 333 backlog jobs while the 1,000 small ones run (first in,
    // first out would run all 10,000 first). Counted in jobs, not in time, so that a faster or
    // slower machine does not change the verdict.
    const [{ bigBefore }] = (await withSql(
      url,
      (sql) => sql`
        SELECT count(*)::int AS "bigBefore" FROM koban.job_history
        WHERE args->>'tenant' = 'big'
          AND date_part('epoch', completed_at) * 1000 - ${started} <= ${lastSmall}`,
    )) as unknown as [{ bigBefore: number }];
    console.log(`fairness: ${bigBefore} of the backlog's 10,000 jobs had run by then`);
    expect(bigBefore).toBeLessThan(1000);
  });
});

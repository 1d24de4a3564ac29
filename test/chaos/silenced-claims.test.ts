import { afterEach, describe, expect, it } from 'vitest';
import { defineWorker, type Job, type Koban, newJob } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';
import { TcpProxy } from './support/proxy.js';

// Claims whose replies a half-open connection never delivers, through a TCP proxy: the server
// commits them, so their jobs are `executing` under the live node that never received them. The
// node abandons each claim at claimTimeout and claims again, so the queue runs on, and it gives
// the jobs it never received back, so they run, once.

const runs = new Map<string, number>();
class SilencedWorker {
  async process(job: Job<{ n: number }>) {
    runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
  }
}
defineWorker(SilencedWorker, { queue: 'silenced' });

const proxies: TcpProxy[] = [];
afterEach(async () => {
  await Promise.allSettled(proxies.splice(0).map((proxy) => proxy.close()));
});

describe('claims whose replies never arrive', () => {
  it('are abandoned, the queue runs on, and the jobs they took are given back and run once', async () => {
    const url = await freshDatabase();
    const proxy = await TcpProxy.start(Number(new URL(url).port || 5432));
    proxies.push(proxy);
    // The jobs wait before the node starts, so that its first two claims take some.
    const inserter = await startKoban({ database: url, queues: {}, workers: [SilencedWorker] });
    const jobs = await inserter.insertAll(
      Array.from({ length: 40 }, (_, n) => newJob(SilencedWorker, { n })),
    );
    proxy.silenceAfter("SET state = 'executing', attempt = j.attempt + 1", 2);
    const abandoned: unknown[] = [];
    const koban: Koban = await startKoban({
      // Without named prepared statements, each claim sends its text, which the proxy spots.
      database: proxy.url(url),
      pooler: 'transaction',
      queues: { silenced: 10 },
      workers: [SilencedWorker],
      claimTimeout: 1000,
      heartbeatInterval: 300,
      poolSize: 5,
    });
    koban.on('error', ({ source, error }) => {
      if (source === 'fetch silenced') abandoned.push(error);
    });
    await waitFor(
      'every job completed',
      () =>
        withSql(url, async (sql) => {
          const [row] = await sql<{ n: number }[]>`
            SELECT count(*)::int AS n FROM koban.all_jobs WHERE state = 'completed'`;
          return row!.n === jobs.length;
        }),
      30_000,
    );
    expect(abandoned.length).toBeGreaterThanOrEqual(2);
    expect(String(abandoned[0])).toMatch(/got no answer within claimTimeout \(1000 ms\): abandoned/);
    const givenBack = await withSql(
      url,
      (sql) => sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM koban.all_jobs
        WHERE errors::text LIKE '%given back: node%claimed the job but never received it%'`,
    );
    // The node's first two claims, of five jobs each, were silenced after they committed.
    expect(givenBack[0]!.n).toBe(10);
    for (const job of jobs) expect(runs.get(job.id), `job ${job.id}`).toBe(1);
  });
});

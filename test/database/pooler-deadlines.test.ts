import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, type Koban, newJob, workflow } from '../../index.js';
import { adminUrl, freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';
import { type Bouncer, startPgbouncer } from './support/pgbouncer.js';

// Through PgBouncer in transaction mode no startup statement_timeout can be set: the deadlines of
// Koban's transactions are SET LOCAL. A limited claim holds its queue's lock for the whole
// cluster; one that hung would stop the queue everywhere, whatever the node abandoned.

const runs = new Map<string, number>();
class LimitedWorker {
  async process(job: Job<{ n: number }>) {
    runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
  }
}
defineWorker(LimitedWorker, { queue: 'limited' });

let bouncer: Bouncer;
beforeAll(async () => {
  bouncer = await startPgbouncer(new URL(adminUrl()), { poolSize: 4 });
});
afterAll(() => bouncer?.stop());

/** Makes the first `event` on koban.jobs matching `condition` sleep in the server for 600 s. */
async function sleepOnce(url: string, event: 'UPDATE' | 'DELETE', condition: string): Promise<void> {
  await withSql(url, (sql) =>
    sql.unsafe(`
      CREATE SEQUENCE koban_test_hung;
      CREATE FUNCTION koban_test_hang() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF ${condition} AND nextval('koban_test_hung') = 1 THEN PERFORM pg_sleep(600); END IF;
        RETURN ${event === 'DELETE' ? 'OLD' : 'NEW'};
      END $$;
      CREATE TRIGGER koban_test_hang BEFORE ${event} ON koban.jobs
        FOR EACH ROW EXECUTE FUNCTION koban_test_hang();`),
  );
}

async function sleeping(url: string): Promise<number> {
  const [row] = await withSql(
    url,
    (sql) => sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE state = 'active' AND wait_event = 'PgSleep' AND datname = current_database()`,
  );
  return row!.n;
}

async function waitForCompleted(koban: Koban, jobs: readonly { id: string }[]): Promise<void> {
  await waitFor(
    'every job completed',
    async () => {
      const states = await Promise.all(jobs.map(async (job) => (await koban.getJob(job.id))?.state));
      return states.every((state) => state === 'completed');
    },
    30_000,
  );
}

describe('a limited claim through PgBouncer in transaction mode', () => {
  it('that the server sleeps on is ended there at claimTimeout: its lock is freed and the queue goes on', async () => {
    const url = await freshDatabase();
    // The first claim of the queue sleeps inside the transaction that holds the queue's lock.
    await sleepOnce(url, 'UPDATE', "NEW.state = 'executing' AND OLD.state = 'available'");
    const koban = await startKoban({
      database: bouncer.url(url),
      pooler: 'transaction',
      queues: { limited: { limit: 5, global: { limit: 5 } } },
      workers: [LimitedWorker],
      claimTimeout: 1000,
      poolSize: 3,
    });
    const abandoned: unknown[] = [];
    koban.on('error', ({ source, error }) => {
      if (source === 'fetch limited') abandoned.push(error);
    });
    const jobs = await koban.insertAll(Array.from({ length: 20 }, (_, n) => newJob(LimitedWorker, { n })));
    await waitFor('the claim to be abandoned', () => abandoned.length > 0, 20_000);
    await waitForCompleted(koban, jobs);
    // Nothing sleeps in the server any more, and the ended claim took nothing: each job ran once.
    expect(await sleeping(url)).toBe(0);
    for (const job of jobs) {
      expect(await koban.getJob(job.id)).toMatchObject({ state: 'completed', attempt: 1, errors: [] });
      expect(runs.get(job.id)).toBe(1);
    }
  }, 90_000);
});

describe('an ack through PgBouncer in transaction mode', () => {
  it('that the server sleeps on is abandoned at claimTimeout, cancelled there, and written again', async () => {
    runs.clear();
    const url = await freshDatabase();
    // The first completion written sleeps in the server.
    await sleepOnce(url, 'DELETE', "OLD.state = 'executing'");
    const koban = await startKoban({
      database: bouncer.url(url),
      pooler: 'transaction',
      queues: { limited: 5 },
      workers: [LimitedWorker],
      claimTimeout: 1000,
      poolSize: 3,
    });
    const abandoned: unknown[] = [];
    koban.on('error', ({ source, error }) => {
      if (source === 'ack') abandoned.push(error);
    });
    const jobs = await koban.insertAll(Array.from({ length: 20 }, (_, n) => newJob(LimitedWorker, { n })));
    await waitForCompleted(koban, jobs);
    expect(String(abandoned[0])).toMatch(
      /got no answer within claimTimeout \(1000 ms\): abandoned, and written again/,
    );
    expect(await sleeping(url)).toBe(0);
    for (const job of jobs) {
      expect(await koban.getJob(job.id)).toMatchObject({ state: 'completed', attempt: 1, errors: [] });
      expect(runs.get(job.id)).toBe(1);
    }
  }, 90_000);

  it('of a workflow step, written in a transaction, is ended in the server at claimTimeout and written again', async () => {
    runs.clear();
    const url = await freshDatabase();
    await sleepOnce(url, 'DELETE', "OLD.state = 'executing'");
    const koban = await startKoban({
      database: bouncer.url(url),
      pooler: 'transaction',
      queues: { limited: 5 },
      workers: [LimitedWorker],
      claimTimeout: 1000,
      poolSize: 3,
    });
    // The step's outcome and the release of the next one are written in one transaction.
    const jobs = await koban.insertAll(
      workflow()
        .add('first', newJob(LimitedWorker, { n: 1 }))
        .add('second', newJob(LimitedWorker, { n: 2 }), { deps: ['first'] }),
    );
    await waitForCompleted(koban, jobs);
    expect(await sleeping(url)).toBe(0);
    for (const job of jobs) expect(runs.get(job.id)).toBe(1);
  }, 90_000);
});

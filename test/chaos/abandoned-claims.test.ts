import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, Koban, type KobanConfig, newJob } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { quietLogger, waitFor } from '../support/wait.js';

// A claim the node abandons after claimTimeout is cancelled in the server, so its connection
// comes back to the pool instead of staying busy, and the rows it locked are never taken.

const runs = new Map<string, number>();
let gate: Promise<void> = Promise.resolve();
class HeldWorker {
  async process(job: Job<{ n: number }>) {
    runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
    await gate;
  }
}
defineWorker(HeldWorker, { queue: 'held' });

const nodes: Koban[] = [];
afterEach(async () => {
  await Promise.allSettled(nodes.splice(0).map((koban) => koban.stop()));
});

let url: string;
beforeAll(async () => {
  url = await freshDatabase();
});

async function start(node: string, config: Partial<KobanConfig>): Promise<Koban> {
  const koban = await Koban.start({
    database: url,
    node,
    queues: { held: 20 },
    workers: [HeldWorker],
    logger: quietLogger,
    pollInterval: 200,
    stageInterval: 200,
    heartbeatInterval: 300,
    rescueAfter: 60_000,
    ...config,
  });
  nodes.push(koban);
  return koban;
}

describe('deadlines on every statement', () => {
  it('an abandoned claim is cancelled in the server: its connection returns, its rows are never taken', async () => {
    runs.clear();
    gate = Promise.resolve();
    // The first claim of the queue sleeps far longer than the test lasts: only a cancel ends it.
    await withSql(url, (sql) =>
      sql.unsafe(`
        CREATE SEQUENCE koban_test_hung_claims;
        CREATE FUNCTION koban_test_hung_claim() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.state = 'executing' AND OLD.state = 'available' AND nextval('koban_test_hung_claims') = 1 THEN
            PERFORM pg_sleep(600);
          END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER koban_test_hung_claim BEFORE UPDATE ON koban.jobs
          FOR EACH ROW EXECUTE FUNCTION koban_test_hung_claim();`),
    );
    try {
      const koban = await start('cancelling-node', { claimTimeout: 1000, poolSize: 3 });
      const abandoned: unknown[] = [];
      koban.on('error', ({ source, error }) => {
        if (source === 'fetch held') abandoned.push(error);
      });
      const jobs = await koban.insertAll(Array.from({ length: 20 }, (_, n) => newJob(HeldWorker, { n })));
      await waitFor('the claim to be abandoned', () => abandoned.length > 0, 20_000);
      // The sleeping backend is cancelled: nothing runs the trigger's sleep any more.
      await waitFor(
        'the abandoned claim to stop running in the server',
        () =>
          withSql(url, async (sql) => {
            const [row] = await sql<{ n: number }[]>`
              SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE state = 'active' AND wait_event = 'PgSleep' AND pid <> pg_backend_pid()`;
            return row!.n === 0;
          }),
        20_000,
      );
      await waitFor(
        'every job completed',
        async () => {
          const states = await Promise.all(jobs.map(async (job) => (await koban.getJob(job.id))?.state));
          return states.every((state) => state === 'completed');
        },
        30_000,
      );
      // The cancelled claim rolled back: its jobs were claimed afresh, never given back or run twice.
      for (const job of jobs) {
        const stored = await koban.getJob(job.id);
        expect(stored).toMatchObject({ state: 'completed', attempt: 1, errors: [] });
        expect(runs.get(job.id)).toBe(1);
      }
    } finally {
      await withSql(url, (sql) => sql.unsafe('DROP TRIGGER koban_test_hung_claim ON koban.jobs'));
    }
  }, 90_000);
});

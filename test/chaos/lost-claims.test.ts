import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, Koban, newJob } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { quietLogger, waitFor } from '../support/wait.js';

// A hung claim used to stop its queue on that node for good (0/20 completed after 45 s, nothing
// logged), and jobs whose claim committed but whose reply never arrived stayed `executing` under
// the live node until it restarted. A claim now has a deadline (claimTimeout): past it the node
// claims again, and a live node gives back the jobs the database says it holds but it does not
// know of. No job runs twice.

const runs = new Map<string, number>();
class ClaimedWorker {
  async process(job: Job<{ n: number }>) {
    runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
defineWorker(ClaimedWorker, { queue: 'hung' });

const nodes: Koban[] = [];
afterEach(async () => {
  await Promise.allSettled(nodes.splice(0).map((koban) => koban.stop()));
});

let url: string;
beforeAll(async () => {
  url = await freshDatabase();
});

async function start(node: string): Promise<Koban> {
  const koban = await Koban.start({
    database: url,
    node,
    queues: { hung: 20 },
    workers: [ClaimedWorker],
    logger: quietLogger,
    pollInterval: 200,
    stageInterval: 200,
    heartbeatInterval: 500,
    rescueAfter: 60_000,
    claimTimeout: 1000,
  });
  nodes.push(koban);
  return koban;
}

const counts = () =>
  withSql(url, async (sql) => {
    const [row] = await sql<{ completed: number; executing: number }[]>`
      SELECT count(*) FILTER (WHERE state = 'completed')::int AS completed,
             count(*) FILTER (WHERE state = 'executing')::int AS executing
      FROM koban.all_jobs WHERE worker = 'ClaimedWorker'`;
    return row!;
  });

describe('claims that hang or whose reply is lost', () => {
  it('a claim the server sleeps on is abandoned; the queue runs on, and its jobs run once', async () => {
    // The first claim of the queue sleeps 12 s in the server, holding the rows it took.
    await withSql(url, (sql) =>
      sql.unsafe(`
        CREATE SEQUENCE koban_test_claims;
        CREATE FUNCTION koban_test_sleepy_claim() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.state = 'executing' AND OLD.state = 'available' AND nextval('koban_test_claims') = 1 THEN
            PERFORM pg_sleep(12);
          END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER koban_test_sleepy_claim BEFORE UPDATE ON koban.jobs
          FOR EACH ROW EXECUTE FUNCTION koban_test_sleepy_claim();`),
    );
    runs.clear();
    const koban = await start('sleepy');
    const started = performance.now();
    const jobs = await koban.insertAll(Array.from({ length: 20 }, (_, n) => newJob(ClaimedWorker, { n })));
    // The jobs the hung claim did not lock run while it hangs (before: none, until it returned).
    await waitFor('the jobs the hung claim did not take', async () => (await counts()).completed >= 10, 9000);
    const whileHung = performance.now() - started;
    // Once it commits, the node never runs what it took: it gives those jobs back, and they run once.
    await waitFor('every job completed', async () => (await counts()).completed === 20, 40_000);
    console.info(
      `[chaos] sleeping claim: 10 jobs done after ${whileHung.toFixed(0)} ms, all 20 after ${(performance.now() - started).toFixed(0)} ms`,
    );
    for (const job of jobs) {
      expect(runs.get(job.id)).toBe(1);
      expect((await koban.getJob(job.id))?.attempt).toBe(1);
    }
    await withSql(url, (sql) => sql.unsafe('DROP TRIGGER koban_test_sleepy_claim ON koban.jobs'));
  }, 60_000);

  it('jobs executing under a live node that it never received are given back and run once', async () => {
    runs.clear();
    const koban = await start('alive');
    // What a claim leaves when the server committed it and its reply was lost on the way.
    const lost = await withSql(
      url,
      (sql) =>
        sql<{ id: string }[]>`
        INSERT INTO koban.jobs (worker, queue, args, state, attempt, attempted_at, attempted_by)
        SELECT 'ClaimedWorker', 'hung', '{"n": 0}'::jsonb, 'executing', 1, now(), ARRAY['alive']
        FROM generate_series(1, 10) RETURNING id::text`,
    );
    const ids = lost.map((row) => row.id);
    await waitFor(
      'the lost jobs completed',
      () =>
        withSql(url, async (sql) => {
          const [row] = await sql<{ n: number }[]>`
            SELECT count(*)::int AS n FROM koban.all_jobs WHERE id::text IN ${sql(ids)} AND state = 'completed'`;
          return row!.n === ids.length;
        }),
      15_000,
    );
    for (const { id } of lost) {
      const job = await koban.getJob(id);
      expect(job).toMatchObject({ state: 'completed', attempt: 1, attemptedBy: ['alive', 'alive'] });
      expect(job!.errors[0]!.error).toContain('given back: node alive claimed the job but never received it');
      expect(runs.get(id)).toBe(1);
    }
  });
});

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, Koban, type KobanConfig, newJob } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { quietLogger, waitFor } from '../support/wait.js';

// Every statement Koban sends has a deadline: one held in the server (a lock another session
// keeps, a trigger that sleeps) fails with statement_timeout and is retried, rather than waiting
// for as long as the hold lasts. A claim the node abandons is cancelled in the server, so its
// connection comes back to the pool instead of staying busy.

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

const isStatementTimeout = (error: unknown) => (error as { code?: string })?.code === '57014';

describe('deadlines on every statement', () => {
  it('an ack and a heartbeat held behind locks time out, are retried, and the job completes once', async () => {
    runs.clear();
    let release!: () => void;
    gate = new Promise((resolve) => {
      release = resolve;
    });
    const koban = await start('held-node', { statementTimeout: 500 });
    const timedOut: string[] = [];
    koban.on('error', ({ source, error }) => {
      if (isStatementTimeout(error)) timedOut.push(source);
    });
    const job = await koban.insert(newJob(HeldWorker, { n: 1 }));
    await waitFor('the job to start', () => runs.get(job.id) === 1);

    // Another session locks the job's row and the node's row; the job then finishes.
    let unlock!: () => void;
    const unlocked = new Promise<void>((resolve) => {
      unlock = resolve;
    });
    let locked!: () => void;
    const holding = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const session = withSql(url, (sql) =>
      sql.begin(async (tx) => {
        await tx`SELECT 1 FROM koban.jobs WHERE id = ${job.id} FOR UPDATE`;
        await tx`SELECT 1 FROM koban.nodes WHERE name = 'held-node' FOR UPDATE`;
        locked();
        await unlocked;
      }),
    );
    await holding;
    release();
    await waitFor(
      'the ack and the heartbeat to miss their deadline',
      () => timedOut.includes('ack') && timedOut.includes('heartbeat'),
      20_000,
    );
    // Still held: the outcome is not written, and it is not lost either.
    expect((await koban.getJob(job.id))?.state).toBe('executing');
    unlock();
    await session;
    await waitFor(
      'the job completed',
      async () => (await koban.getJob(job.id))?.state === 'completed',
      20_000,
    );
    const done = await koban.getJob(job.id);
    expect(done).toMatchObject({ attempt: 1, errors: [] });
    expect(runs.get(job.id)).toBe(1);
    // The node beats again once the lock is gone.
    const before = timedOut.length;
    const beat = async () =>
      withSql(url, async (sql) => {
        const [row] = await sql<
          { at: Date }[]
        >`SELECT heartbeat_at AS at FROM koban.nodes WHERE name = 'held-node'`;
        return row!.at.getTime();
      });
    const first = await beat();
    await waitFor('a heartbeat after the lock', async () => (await beat()) > first, 20_000);
    expect(timedOut.slice(before).filter((source) => source === 'heartbeat')).toEqual([]);
  }, 60_000);

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
      // No statementTimeout: what ends the sleeping claim is the node's cancel.
      const koban = await start('cancelling-node', { claimTimeout: 1000, statementTimeout: 0, poolSize: 3 });
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

import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, KobanConfigError, type KobanLogger, newJob } from '../../index.js';
import { adminUrl, freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';
import { type Bouncer, startPgbouncer } from './support/pgbouncer.js';

// A real PgBouncer in transaction mode between Koban and the server: each transaction may land
// on another server connection, so named prepared statements, LISTEN and session state break.
// Its pool is smaller than the connections behind it (two nodes of 4 on 4 server connections):
// clients wait for a server connection now and then, as in production.

const runs = new Map<string, number>();
const aborted = new Set<string>();

class PooledWorker {
  async process(job: Job<{ n: number; hold?: boolean }>) {
    runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
    if (job.args.hold) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, 30_000);
        job.signal.addEventListener('abort', () => {
          aborted.add(job.id);
          clearTimeout(timer);
          reject(job.signal.reason);
        });
      });
    }
  }
}
defineWorker(PooledWorker, { queue: 'pooled' });

function recordingLogger(): KobanLogger & { warnings: string[]; errors: string[] } {
  const warnings: string[] = [];
  const errors: string[] = [];
  return {
    warnings,
    errors,
    info() {},
    warn: (details, message) => warnings.push(typeof details === 'string' ? details : (message ?? '')),
    error: (details, message) =>
      errors.push(typeof details === 'string' ? details : `${message}: ${String(details.error)}`),
  };
}

let bouncer: Bouncer;
let direct: string;
let pooled: string;
const clients: postgres.Sql[] = [];

beforeAll(async () => {
  bouncer = await startPgbouncer(new URL(adminUrl()), { poolSize: 4 });
  direct = await freshDatabase();
  pooled = bouncer.url(direct);
});

afterAll(async () => {
  for (const client of clients) await client.end({ timeout: 1 });
  await bouncer?.stop();
});

describe("pooler: 'transaction' through PgBouncer in transaction mode", () => {
  it('two nodes run every job once, with one leader, polling, and no failed statement', async () => {
    const logger = recordingLogger();
    const node = (name: string) =>
      startKoban({
        database: pooled,
        pooler: 'transaction',
        node: name,
        queues: { pooled: 5 },
        poolSize: 4,
        heartbeatInterval: 200,
        rescueAfter: 2000,
        blockTolerance: 1000,
        logger,
      });
    const [a, b] = [await node('pooled-a'), await node('pooled-b')];
    const jobs = await a.insertAll(Array.from({ length: 200 }, (_, n) => newJob(PooledWorker, { n })));
    await waitFor(
      'every job to complete',
      async () => (await a.listJobs({ state: ['available', 'executing'], limit: 1 })).length === 0,
      50_000,
    );
    expect(jobs.every((job) => runs.get(job.id) === 1)).toBe(true);
    const completed = await withSql(direct, async (sql) => {
      const [row] = await sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM koban.all_jobs WHERE state = 'completed' AND attempt = 1`;
      return row!.n;
    });
    expect(completed).toBe(200);
    await waitFor('one leader', () => [a.isLeader, b.isLeader].filter(Boolean).length === 1);
    expect(logger.errors).toEqual([]);
    expect(logger.warnings).toEqual([]);
    // No answer of the server went to a client the pooler had stopped serving (see pooler-pipelining.test.ts).
    expect(bouncer.log()).not.toContain('when not linked');
  });

  it("runs a job inserted in a transaction of the application's own postgres.js client", async () => {
    const own = postgres(pooled, { max: 4, prepare: false, onnotice: () => {} });
    clients.push(own);
    const db = drizzlePostgres({ client: own });
    const logger = recordingLogger();
    const koban = await startKoban({ database: db, pooler: 'transaction', queues: { pooled: 2 }, logger });
    const [job, other] = await db.transaction(async (tx) => [
      await koban.insert(newJob(PooledWorker, { n: 4 }), { tx }),
      await koban.insert(newJob(PooledWorker, { n: 5 }), { tx }),
    ]);
    await waitFor('the jobs to complete', async () => {
      const states = await Promise.all([koban.getJob(job.id), koban.getJob(other.id)]);
      return states.every((found) => found?.state === 'completed');
    });
    expect([runs.get(job.id), runs.get(other.id)]).toEqual([1, 1]);
    // A rolled-back transaction enqueues nothing.
    let rolledBack = '';
    const failure = await db
      .transaction(async (tx) => {
        rolledBack = (await koban.insert(newJob(PooledWorker, { n: 6 }), { tx })).id;
        tx.rollback();
      })
      .catch((error: Error) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(rolledBack).not.toBe('');
    expect(await koban.getJob(rolledBack)).toBeNull();
    expect(logger.errors).toEqual([]);
  });

  it('without listenUrl, cancel aborts a running job and pause stops a queue, within a poll', async () => {
    const logger = recordingLogger();
    const options = { database: pooled, pooler: 'transaction' as const, queues: { pooled: 2 }, logger };
    const runner = await startKoban({ ...options, node: 'runner' });
    const other = await startKoban({ ...options, queues: {}, node: 'other' });
    const held = await other.insert(newJob(PooledWorker, { n: 1, hold: true }));
    await waitFor('the job to run', () => runs.get(held.id) === 1);
    expect(await other.cancelJob(held.id)).toBe(true);
    await waitFor('the running job to be aborted on the runner', () => aborted.has(held.id), 5000);
    await other.pauseQueue('pooled');
    await waitFor(
      'the runner to pause',
      () => runner.queues().find((queue) => queue.queue === 'pooled')?.paused,
    );
    const waiting = await other.insert(newJob(PooledWorker, { n: 2 }));
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect((await other.getJob(waiting.id))?.state).toBe('available');
    await other.resumeQueue('pooled');
    await waitFor(
      'the job to run after resume',
      async () => (await other.getJob(waiting.id))?.state === 'completed',
    );
    expect(logger.errors).toEqual([]);
  });

  it('with listenUrl, an insert wakes the node at once instead of at its next poll', async () => {
    const koban = await startKoban({
      database: pooled,
      pooler: 'transaction',
      listenUrl: direct,
      queues: { pooled: 2 },
      pollInterval: 60_000,
    });
    await new Promise((resolve) => setTimeout(resolve, 300)); // past the first poll at start
    const started = Date.now();
    const job = await koban.insert(newJob(PooledWorker, { n: 3 }));
    await waitFor(
      'the job to complete',
      async () => (await koban.getJob(job.id))?.state === 'completed',
      10_000,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('the start-up check', () => {
  it('warns, saying what to set, when the URL goes through a pooler Koban was not told of', async () => {
    const logger = recordingLogger();
    await startKoban({ database: pooled, queues: {}, logger });
    expect(logger.warnings).toEqual([
      expect.stringMatching(
        /looks like a connection pooler in transaction mode .*Set pooler: 'transaction'.*listenUrl/,
      ),
    ]);
  });

  it("warns for the application's own client through the pooler too", async () => {
    const own = postgres(pooled, { max: 2, prepare: false, onnotice: () => {} });
    clients.push(own);
    const logger = recordingLogger();
    await startKoban({ database: drizzlePostgres({ client: own }), queues: {}, logger });
    expect(logger.warnings).toEqual([expect.stringContaining("Set pooler: 'transaction'")]);
  });

  it('says nothing on a direct connection', async () => {
    const logger = recordingLogger();
    await startKoban({ database: direct, queues: {}, logger });
    expect(logger.warnings).toEqual([]);
  });
});

describe('pooler options', () => {
  it('are checked at start', async () => {
    await expect(startKoban({ database: direct, pooler: 'session' as never })).rejects.toThrow(
      new KobanConfigError(
        `pooler: expected 'transaction' (a pooler in transaction mode) or undefined, got "session"; a pooler in session mode needs no setting`,
      ),
    );
    await expect(startKoban({ pooler: 'transaction' })).rejects.toThrow(
      "pooler: 'transaction' is for a PostgreSQL server behind a pooler",
    );
    await expect(startKoban({ database: direct, listenUrl: 'localhost:5432' })).rejects.toThrow(
      'listenUrl: expected a direct postgres:// URL (not through the pooler), got a string that is not one',
    );
  });
});

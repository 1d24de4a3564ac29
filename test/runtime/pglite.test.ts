import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, type JobSpec, Koban, newJob } from '../../index.js';
import { startKoban } from '../support/koban.js';
import { quietLogger, waitFor } from '../support/wait.js';

const seen: number[] = [];

class EmbeddedWorker {
  async process(job: Job<{ n: number }>) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    seen.push(job.args.n);
    return { doubled: job.args.n * 2 };
  }
}
defineWorker(EmbeddedWorker, { queue: 'embedded' });

class OtherQueueWorker {
  async process(_job: Job<{ n: number }>) {}
}
defineWorker(OtherQueueWorker, { queue: 'side' });

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

async function completes(koban: Koban, id: string, timeoutMs = 20_000) {
  return waitFor(
    `job ${id} to complete`,
    async () => {
      const job = await koban.getJob(id);
      return job?.state === 'completed' ? job : null;
    },
    timeoutMs,
  );
}

describe('Koban on embedded PGlite', { timeout: 180_000 }, () => {
  it('runs in memory when no database is given', async () => {
    const koban = await startKoban({ queues: { embedded: 2 } });
    const job = await koban.insert(newJob(EmbeddedWorker, { n: 1 }));
    const done = await completes(koban, job.id);
    expect(done.attempt).toBe(1);
    expect(done.attemptedBy).toEqual([koban.node]);
  });

  it('runs on a PGlite instance given by the application, and leaves it open on stop', async () => {
    const pglite = new PGlite();
    cleanups.push(() => pglite.close());
    const koban = await startKoban({ database: pglite, queues: { embedded: 2 } });
    const job = await koban.insert(newJob(EmbeddedWorker, { n: 2 }));
    await completes(koban, job.id);
    await koban.stop();
    const { rows } = await pglite.query<{ state: string }>('SELECT state FROM koban.all_jobs WHERE id = $1', [
      job.id,
    ]);
    expect(rows).toEqual([{ state: 'completed' }]);
  });

  it('runs on a drizzle pglite instance', async () => {
    const pglite = new PGlite();
    cleanups.push(() => pglite.close());
    const koban = await startKoban({ database: drizzle({ client: pglite }), queues: { embedded: 2 } });
    const job = await koban.insert(newJob(EmbeddedWorker, { n: 3 }));
    await completes(koban, job.id);
  });

  it('runs many jobs of several queues to completion on the single connection', async () => {
    const koban = await startKoban({ queues: { embedded: 5, side: 3 } });
    const specs = [
      ...Array.from({ length: 60 }, (_, i) => newJob(EmbeddedWorker, { n: 1000 + i })),
      ...Array.from({ length: 40 }, (_, i) => newJob(OtherQueueWorker, { n: i })),
    ];
    await koban.insertAll(specs);
    await waitFor(
      'all 100 jobs to complete',
      async () => (await koban.listJobs({ state: 'completed', limit: 1000 })).length === 100,
      60_000,
    );
    expect(await koban.listJobs({ state: ['available', 'executing', 'retryable'] })).toEqual([]);
    const ran = seen.filter((n) => n >= 1000).sort((a, b) => a - b);
    expect(ran).toEqual(Array.from({ length: 60 }, (_, i) => 1000 + i));
  });

  it('is woken by NOTIFY: a job inserted while idle runs long before the poll interval', async () => {
    const koban = await startKoban({ queues: { embedded: 1 }, pollInterval: 60_000, stageInterval: 60_000 });
    // Let the first fetch (at start) find nothing, so the producer is idle until woken.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const inserted = Date.now();
    const job = await koban.insert(newJob(EmbeddedWorker, { n: 4 }));
    await completes(koban, job.id, 15_000);
    expect(Date.now() - inserted).toBeLessThan(15_000);
  });

  // insertAll must not hold PGlite's only connection in a transaction while it waits for the source:
  // a generator that reads the same database (a job per row) would wait for that transaction, which
  // waits for the generator. The 5 s escape below turns such a hang into a failure.
  it('streams insertAll from a generator that reads the same PGlite database', async () => {
    const pglite = new PGlite();
    cleanups.push(() => pglite.close());
    const db = drizzle({ client: pglite });
    await db.execute(sql`CREATE TABLE public.orders AS SELECT generate_series(1, 5) AS id`);
    const koban = await startKoban({ database: db, queues: {} });
    async function* jobPerOrder(): AsyncGenerator<JobSpec> {
      for (let id = 1; id <= 5; id++) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error('deadlock: the read waited 5 s for the insertAll transaction')),
            5000,
          );
        });
        const { rows } = await Promise.race([
          db.execute(sql`SELECT id FROM public.orders WHERE id = ${id}`),
          timeout,
        ]);
        clearTimeout(timer);
        yield newJob(EmbeddedWorker, { n: Number((rows[0] as { id: number }).id) });
      }
    }
    const inserted = await koban.insertAll(jobPerOrder(), { chunkSize: 2 });
    expect(inserted.map((job) => job.args)).toEqual([1, 2, 3, 4, 5].map((n) => ({ n })));
  });

  it('keeps jobs in a dataDir across a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'koban-pglite-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));

    const first = await Koban.start({ dataDir, queues: {}, logger: quietLogger });
    const job = await first.insert(newJob(EmbeddedWorker, { n: 5 }), { meta: { kept: true } });
    await first.stop();

    const second = await startKoban({ dataDir, queues: {} });
    expect(await second.getJob(job.id)).toMatchObject({
      state: 'available',
      args: { n: 5 },
      meta: { kept: true },
    });
    await second.stop();

    const third = await startKoban({ dataDir, queues: { embedded: 1 } });
    await completes(third, job.id);
    await third.stop();

    const fourth = await startKoban({ dataDir, queues: {} });
    expect((await fourth.getJob(job.id))?.state).toBe('completed');
    expect((await fourth.migrate()).from).toBe((await fourth.migrate()).to);
  });
});

import { describe, expect, it } from 'vitest';
import {
  defineWorker,
  type Job,
  KobanConfigError,
  KobanValidationError,
  newJob,
  Worker,
} from '../../index.js';
import { freshDatabase } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';

// A job not started by its deadline is never started, on any node: it ends cancelled (or
// discarded) with the reason in its errors, whichever state it waited in.

@Worker({ queue: 'waiting', deadline: { in: 1 } })
class Punctual {
  async process(_job: Job<{ n: number }>) {}
}

@Worker({ queue: 'waiting', deadline: { in: 1, action: 'discard' } })
class Discardable {
  async process(_job: Job<{ n: number }>) {}
}

@Worker({ queue: 'failing', maxAttempts: 5 })
class FailsOnce {
  async process(_job: Job<{ n: number }>) {
    throw new Error('first attempt fails');
  }
  backoff() {
    return 3600;
  }
}

const started: { id: string; attemptedAt: number }[] = [];

@Worker({ queue: 'race' })
class Slow {
  async process(job: Job<{ n: number }>) {
    started.push({ id: job.id, attemptedAt: job.attemptedAt!.getTime() });
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

@Worker({ queue: 'long' })
class Long {
  async process(_job: Job<{ n: number }>) {
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }
}

describe('deadlines', () => {
  it('end available, scheduled and retryable jobs that have not started, as each asked', async () => {
    const koban = await startKoban({
      database: await freshDatabase(),
      queues: { failing: 1 },
      workers: [Punctual, Discardable, FailsOnce],
    });
    // Nothing runs `waiting`: these jobs wait as available or scheduled until their deadline.
    const available = await koban.insert(newJob(Punctual, { n: 1 }));
    const scheduled = await koban.insert(newJob(Punctual, { n: 2 }, { scheduleIn: 3600 }));
    const discarded = await koban.insert(newJob(Discardable, { n: 3 }));
    const noDeadline = await koban.insert(newJob(Punctual, { n: 4 }, { deadline: false }));
    const retryable = await koban.insert(newJob(FailsOnce, { n: 5 }, { deadline: { in: 2 } }));
    expect([available.state, scheduled.state]).toEqual(['available', 'scheduled']);
    await waitFor('the first attempt to fail', async () => {
      return (await koban.getJob(retryable.id))?.state === 'retryable';
    });
    const ended = await waitFor('every job with a deadline to end', async () => {
      const jobs = await Promise.all(
        [available, scheduled, discarded, retryable].map((job) => koban.getJob(job.id)),
      );
      return jobs.every((job) => job && ['cancelled', 'discarded'].includes(job.state)) ? jobs : undefined;
    });
    expect(ended.map((job) => job!.state)).toEqual(['cancelled', 'cancelled', 'discarded', 'cancelled']);
    for (const job of ended.slice(0, 3)) {
      expect(job!.attempt).toBe(0);
      expect(job!.errors).toHaveLength(1);
      expect(job!.errors[0]!.error).toMatch(
        /^deadline: not started by \d{4}-\d\d-\d\dT.*, so (cancelled|discarded)$/,
      );
    }
    const failed = ended[3]!;
    expect(failed.attempt).toBe(1);
    expect(failed.errors.map((entry) => entry.error)).toEqual([
      'Error: first attempt fails',
      expect.stringMatching(/^deadline: not started by .*, so cancelled$/),
    ]);
    expect((await koban.getJob(noDeadline.id))?.state).toBe('available');
  }, 30_000);

  it('never starts a job past its deadline on any of three nodes', async () => {
    const database = await freshDatabase();
    const nodes = await Promise.all(
      ['a', 'b', 'c'].map((name) =>
        startKoban({ database, node: `deadline-${name}`, queues: { race: 2 }, workers: [Slow] }),
      ),
    );
    // 300 jobs of 100 ms on 6 slots take at least 5 s: the deadline passes while most still wait.
    const deadline = new Date(Date.now() + 3000);
    const jobs = await nodes[0]!.insertAll(
      Array.from({ length: 300 }, (_, n) => newJob(Slow, { n }, { deadline })),
    );
    const final = await waitFor(
      'every job to end',
      async () => {
        const rows = await nodes[0]!.listJobs({ queue: 'race', limit: 1000 });
        const ended = rows.every((row) => ['completed', 'cancelled'].includes(row.state));
        return rows.length === 300 && ended ? rows : undefined;
      },
      60_000,
    );
    const completed = final.filter((row) => row.state === 'completed');
    const cancelled = final.filter((row) => row.state === 'cancelled');
    expect(completed.length + cancelled.length).toBe(jobs.length);
    expect(cancelled.length).toBeGreaterThan(0);
    expect(completed.length).toBeGreaterThan(0);
    // Every attempt began before the deadline (by the database's clock), and once.
    expect(started.filter((start) => start.attemptedAt >= deadline.getTime())).toEqual([]);
    expect(new Set(started.map((start) => start.id)).size).toBe(started.length);
    expect(started.length).toBe(completed.length);
    for (const job of cancelled) {
      expect(job.attempt).toBe(0);
      expect(job.attemptedBy).toEqual([]);
    }
  }, 90_000);

  it('lets a job that started before its deadline run past it', async () => {
    const koban = await startKoban({ database: await freshDatabase(), queues: { long: 1 }, workers: [Long] });
    const job = await koban.insert(newJob(Long, { n: 1 }, { deadline: { in: 2 } }));
    const done = await waitFor('the job to end', async () => {
      const row = await koban.getJob(job.id);
      return row && ['completed', 'cancelled'].includes(row.state) ? row : undefined;
    });
    expect(done.state).toBe('completed');
    expect(done.completedAt!.getTime()).toBeGreaterThan(done.insertedAt.getTime() + 2000);
  }, 30_000);

  it('drops a passed deadline when a job is retried by hand', async () => {
    const koban = await startKoban({ database: await freshDatabase(), workers: [Punctual] });
    const job = await koban.insert(newJob(Punctual, { n: 9 }, { deadline: { in: 0 } }));
    await waitFor('the job to be cancelled', async () => (await koban.getJob(job.id))?.state === 'cancelled');
    expect(await koban.retryJobs([job.id])).toBe(1);
    const retried = await koban.getJob(job.id);
    expect(retried?.state).toBe('available');
  }, 30_000);

  it('refuses deadlines that are not seconds, a Date, { in } or { at }', () => {
    class Bad {
      async process(_job: Job) {}
    }
    expect(() => defineWorker(Bad, { deadline: -1 })).toThrow(KobanConfigError);
    expect(() => defineWorker(Bad, { deadline: { in: 1, at: new Date() } as never })).toThrow(
      /deadline must be seconds from insert, a Date, \{ in: seconds \} or \{ at: Date \}/,
    );
    expect(() => defineWorker(Bad, { deadline: { in: 1, action: 'drop' as never } })).toThrow(
      /deadline action must be 'cancel' or 'discard', got "drop"/,
    );
  });

  it('refuses a bad per-job deadline at insert', async () => {
    const koban = await startKoban({ database: await freshDatabase(), workers: [Punctual] });
    await expect(
      koban.insert(newJob(Punctual, { n: 1 }, { deadline: new Date(Number.NaN) })),
    ).rejects.toThrow(KobanValidationError);
    await expect(
      koban.insert(newJob(Punctual, { n: 1 }, { deadline: { at: new Date('+010000-01-01') } })),
    ).rejects.toThrow(/outside the years 1970 to 9999/);
  });
});

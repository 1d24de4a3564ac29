import { beforeAll, describe, expect, it } from 'vitest';
import { cancel, defineWorker, discard, type Job, type JobSpec, newJob, snooze } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';

type Mode = 'ok' | 'throw' | 'cancel' | 'discard' | 'snooze' | 'hang' | 'returnValue';

class OutcomeWorker {
  async process(job: Job<{ mode: Mode }>) {
    switch (job.args.mode) {
      case 'throw':
        throw new TypeError('boom');
      case 'cancel':
        return cancel('not needed');
      case 'discard':
        return discard('bad data');
      case 'snooze':
        return snooze(30);
      case 'hang':
        await new Promise((_, reject) =>
          job.signal.addEventListener('abort', () => reject(job.signal.reason)),
        );
        return;
      default:
        return { ok: true };
    }
  }
}
defineWorker(OutcomeWorker, { queue: 'results', maxAttempts: 3 });

class TimeoutWorker {
  async process(job: Job<{ ms: number }>) {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, job.args.ms);
      job.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(job.signal.reason);
      });
    });
  }
}
defineWorker(TimeoutWorker, { queue: 'results', timeout: 100, maxAttempts: 1 });

class CustomBackoffWorker {
  async process(_job: Job<{ n: number }>) {
    throw new Error('always');
  }
  backoff(job: Job<{ n: number }>) {
    return job.attempt * 1000;
  }
}
defineWorker(CustomBackoffWorker, { queue: 'results' });

let url: string;
beforeAll(async () => {
  url = await freshDatabase();
});

async function runOne(spec: JobSpec<any, any>) {
  const koban = await startKoban({ database: url, queues: { results: 5 } });
  const job = await koban.insert(spec);
  const done = await waitFor(`job ${job.id} to leave available/executing`, async () => {
    const current = await koban.getJob(job.id);
    return current && !['available', 'executing'].includes(current.state) ? current : null;
  });
  return { koban, job: done };
}

describe('results of process', () => {
  it('completes a job that returns', async () => {
    const { job } = await runOne(newJob(OutcomeWorker, { mode: 'ok' }));
    expect(job.state).toBe('completed');
    expect(job.completedAt).toBeInstanceOf(Date);
    expect(job.attempt).toBe(1);
    expect(job.errors).toEqual([]);
  });

  it('retries a job that throws, with the default backoff and the error kept', async () => {
    const { job } = await runOne(newJob(OutcomeWorker, { mode: 'throw' }));
    expect(job.state).toBe('retryable');
    expect(job.errors).toHaveLength(1);
    expect(job.errors[0]).toMatchObject({ attempt: 1, error: 'TypeError: boom' });
    expect(job.errors[0]!.stack).toContain('results.test.ts');
    expect(Date.parse(job.errors[0]!.at)).not.toBeNaN();
    // 15 + 2^1 = 17 s, plus at most 10% jitter, measured on the database clock from the attempt.
    const delay = job.scheduledAt.getTime() - job.attemptedAt!.getTime();
    expect(delay).toBeGreaterThanOrEqual(16_500);
    expect(delay).toBeLessThanOrEqual(19_500);
  });

  it('uses a worker backoff method', async () => {
    const { job } = await runOne(newJob(CustomBackoffWorker, { n: 1 }));
    expect(job.state).toBe('retryable');
    const delay = job.scheduledAt.getTime() - job.attemptedAt!.getTime();
    expect(delay).toBeGreaterThanOrEqual(900_000);
    expect(delay).toBeLessThanOrEqual(1_100_000);
  });

  it('discards a job whose last attempt throws', async () => {
    const koban = await startKoban({ database: url, queues: { results: 5 } });
    const inserted = await koban.insert(newJob(OutcomeWorker, { mode: 'throw' }));
    for (let attempt = 1; attempt <= 3; attempt++) {
      await waitFor(
        `attempt ${attempt}`,
        async () =>
          (await koban.getJob(inserted.id))?.attempt === attempt &&
          (await koban.getJob(inserted.id))?.state !== 'executing',
      );
      // Make the retry due now instead of sleeping through the backoff.
      await withSql(
        url,
        (sql) =>
          sql`UPDATE koban.jobs SET scheduled_at = now() WHERE id = ${inserted.id} AND state = 'retryable'`,
      );
    }
    const job = await waitFor('discarded', async () => {
      const current = await koban.getJob(inserted.id);
      return current?.state === 'discarded' ? current : null;
    });
    expect(job.attempt).toBe(3);
    expect(job.discardedAt).toBeInstanceOf(Date);
    expect(job.errors.map((error) => error.attempt)).toEqual([1, 2, 3]);
  });

  it('cancels on cancel(reason) and records the reason', async () => {
    const { job } = await runOne(newJob(OutcomeWorker, { mode: 'cancel' }));
    expect(job.state).toBe('cancelled');
    expect(job.cancelledAt).toBeInstanceOf(Date);
    expect(job.errors[0]!.error).toBe('cancelled: not needed');
  });

  it('discards on discard(reason) even with attempts left', async () => {
    const { job } = await runOne(newJob(OutcomeWorker, { mode: 'discard' }));
    expect(job.state).toBe('discarded');
    expect(job.attempt).toBe(1);
    expect(job.errors[0]!.error).toBe('discarded: bad data');
  });

  it('snoozes without spending the attempt', async () => {
    const { job } = await runOne(newJob(OutcomeWorker, { mode: 'snooze' }));
    expect(job.state).toBe('scheduled');
    expect(job.attempt).toBe(0);
    expect(job.errors).toEqual([]);
    const delay = job.scheduledAt.getTime() - job.attemptedAt!.getTime();
    expect(delay).toBeGreaterThanOrEqual(29_000);
    expect(delay).toBeLessThanOrEqual(31_000);
  });

  it('aborts job.signal on timeout and fails the attempt', async () => {
    const { job } = await runOne(newJob(TimeoutWorker, { ms: 10_000 }));
    expect(job.state).toBe('discarded');
    expect(job.errors[0]!.error).toBe('KobanTimeoutError: TimeoutWorker timed out after 100 ms');
  });

  it('lets a job that finishes within its timeout complete', async () => {
    const { job } = await runOne(newJob(TimeoutWorker, { ms: 5 }));
    expect(job.state).toBe('completed');
  });
});

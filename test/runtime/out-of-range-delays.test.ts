import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, Koban, newJob, snooze } from '../../index.js';
import { freshDatabase } from '../support/databases.js';
import { logText, waitFor } from '../support/wait.js';

// A snooze or a backoff whose due time the database cannot store (interval out of range, a
// bigint written as 1e+303) used to leave the job executing on a live node; one of 1e12 s stored
// a due year of 33715. Each is now refused or replaced, and the job settles.

class SnoozingWorker {
  async process(job: Job<{ seconds: number }>) {
    return snooze(job.args.seconds);
  }
}
defineWorker(SnoozingWorker, { queue: 'delays' });

class BackingOffWorker {
  async process(_job: Job<{ seconds: number }>) {
    throw new Error('fails every time');
  }
  backoff(job: Job<{ seconds: number }>) {
    return job.args.seconds;
  }
}
defineWorker(BackingOffWorker, { queue: 'delays' });

let koban: Koban;
const warnings: string[] = [];
beforeAll(async () => {
  koban = await Koban.start({
    database: await freshDatabase(),
    pollInterval: 200,
    queues: { delays: 10 },
    workers: [SnoozingWorker, BackingOffWorker],
    logger: { info() {}, warn: (details, message) => warnings.push(logText(details, message)), error() {} },
  });
});
afterAll(() => koban.stop());

async function settled(id: string) {
  return waitFor(`job ${id} to settle`, async () => {
    const job = await koban.getJob(id);
    return job && job.state !== 'available' && job.state !== 'executing' ? job : null;
  });
}

const year = 365.25 * 24 * 3600;

describe('delays past the latest due time', () => {
  it.each([1e12, 1e13, 1e300])(
    'snooze(%d) is refused with a clear error and the job retries',
    async (seconds) => {
      const job = await koban.insert(newJob(SnoozingWorker, { seconds }));
      const done = await settled(job.id);
      expect(done.state).toBe('retryable');
      expect(done.attempt).toBe(1);
      expect(done.errors.at(-1)?.error).toContain('KobanValidationError');
      expect(done.errors.at(-1)?.error).toContain('after 9999-12-31');
      // The retry is the default backoff's, not a time the database cannot hold.
      expect(done.scheduledAt.getTime() - Date.now()).toBeLessThan(60_000);
    },
  );

  it('a snooze within the limit is kept as asked', async () => {
    const job = await koban.insert(newJob(SnoozingWorker, { seconds: 100 * year }));
    const done = await settled(job.id);
    expect(done.state).toBe('scheduled');
    expect(done.scheduledAt.getUTCFullYear()).toBe(new Date().getUTCFullYear() + 100);
  });

  it.each([1e13, 1e300])(
    'a backoff of %d seconds falls back to the default backoff, with a warning',
    async (seconds) => {
      const job = await koban.insert(newJob(BackingOffWorker, { seconds }));
      const done = await settled(job.id);
      expect(done.state).toBe('retryable');
      expect(done.errors.at(-1)?.error).toContain('fails every time');
      expect(done.scheduledAt.getTime() - Date.now()).toBeLessThan(60_000);
      expect(
        warnings.some((line) => line.includes(`job ${job.id}`) && line.includes('default backoff')),
      ).toBe(true);
    },
  );
});

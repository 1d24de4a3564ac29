import { describe, expect, it } from 'vitest';
import { defineWorker, type Job, KobanValidationError, newJob } from '../../index.js';
import { drainJobs } from '../../runtime/testing.js';
import { startKoban } from '../support/koban.js';

// drainJobs with a limit, and with the safety off (Oban's drain_jobs limit and with_safety).

class Step {
  async process(job: Job<{ fail?: boolean }>) {
    if (job.args.fail) throw new Error('the worker fails here');
  }
}
defineWorker(Step, { queue: 'drain_limit', maxAttempts: 1 });

const start = () => startKoban({ testing: 'manual', workers: [Step] });

describe('drainJobs limit and withSafety', () => {
  it('runs at most limit jobs and leaves the rest available', async () => {
    const koban = await start();
    await koban.insertAll(Array.from({ length: 5 }, () => newJob(Step, {})));
    expect((await drainJobs(koban, { limit: 2 })).completed).toBe(2);
    expect(await koban.listJobs({ state: 'available' })).toHaveLength(3);
    expect((await drainJobs(koban, { limit: 10 })).completed).toBe(3);
    await expect(drainJobs(koban, { limit: 0 })).rejects.toThrow(KobanValidationError);
    await expect(drainJobs(koban, { limit: 1.5 })).rejects.toThrow(
      'drainJobs: limit: expected a whole number of jobs above 0, got 1.5',
    );
  });

  it('with withSafety false, throws the job error once its outcome is written', async () => {
    const koban = await start();
    const failing = await koban.insert(newJob(Step, { fail: true }));
    await expect(drainJobs(koban, { withSafety: false })).rejects.toThrow('the worker fails here');
    expect((await koban.getJob(failing.id))!.state).toBe('discarded');
    await koban.insert(newJob(Step, { fail: true }));
    expect(await drainJobs(koban)).toMatchObject({ discarded: 1 });
  });
});

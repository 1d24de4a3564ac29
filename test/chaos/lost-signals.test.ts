import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, Koban, newJob } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { quietLogger, waitFor } from '../support/wait.js';
import { sleep } from './support/cluster.js';

// Pause and cancel signals sent while LISTEN was down used to be lost for good: after a pause
// stored as `paused = true`, 10 of 10 jobs inserted into the paused queue still ran, and a job
// cancelled in that window never saw its abort signal; stored queue state was read only at
// start. Each test changes the database without a NOTIFY, as a signal lost on the way would:
// the node converges on what is stored within a heartbeat.

const ran: string[] = [];
const aborted: string[] = [];
class SignalledWorker {
  async process(job: Job<{ waitMs: number }>) {
    ran.push(job.id);
    if (job.args.waitMs === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, job.args.waitMs);
      job.signal.addEventListener('abort', () => {
        aborted.push(job.id);
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
defineWorker(SignalledWorker, { queue: 'signals' });

let url: string;
let koban: Koban;
beforeAll(async () => {
  url = await freshDatabase();
  koban = await Koban.start({
    database: url,
    queues: { signals: 10 },
    workers: [SignalledWorker],
    logger: quietLogger,
    pollInterval: 200,
    heartbeatInterval: 500,
    rescueAfter: 60_000,
  });
});
afterAll(() => koban.stop());

describe('signals lost while LISTEN was down', () => {
  it('a pause stored without its NOTIFY still pauses the queue on the node', async () => {
    await withSql(
      url,
      (sql) => sql`
        INSERT INTO koban.queues (name, paused) VALUES ('signals', true)
        ON CONFLICT (name) DO UPDATE SET paused = true`,
    );
    await waitFor(
      'the node to see the stored pause',
      () => koban.queues().find((q) => q.queue === 'signals')?.paused,
      5000,
    );
    ran.length = 0;
    const jobs = await koban.insertAll(
      Array.from({ length: 10 }, () => newJob(SignalledWorker, { waitMs: 0 })),
    );
    await sleep(3000);
    expect(ran).toEqual([]);
    await koban.resumeQueue('signals');
    await waitFor('the jobs to run once resumed', () => ran.length === jobs.length, 10_000);
  });

  it('a job cancelled without its NOTIFY is aborted on the node that runs it', async () => {
    const job = await koban.insert(newJob(SignalledWorker, { waitMs: 60_000 }));
    await waitFor('the job to run', () => ran.includes(job.id));
    await withSql(
      url,
      (sql) => sql`UPDATE koban.jobs SET state = 'cancelled', cancelled_at = now() WHERE id = ${job.id}`,
    );
    await waitFor('the abort signal', () => aborted.includes(job.id), 5000);
    expect((await koban.getJob(job.id))?.state).toBe('cancelled');
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, newJob } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';

// A rolling deploy: an old node that lacks a new worker shares a queue with a new node that has
// it. The old node may claim the new worker's jobs; it must give them back, never cancel them,
// and the new node runs each exactly once.

const ran: string[] = [];

class OldWorker {
  async process() {}
}
defineWorker(OldWorker, { queue: 'deploy' });

class NewWorker {
  async process(job: Job<{ n: number }>) {
    ran.push(String(job.args.n));
  }
}
defineWorker(NewWorker, { queue: 'deploy' });

let url: string;

beforeAll(async () => {
  url = await freshDatabase();
});

describe('a rolling deploy', () => {
  it('lets the node without a worker give its jobs back, for the node with it to run once', async () => {
    const old = await startKoban({
      database: url,
      queues: { deploy: 5 },
      workers: [OldWorker],
      node: 'old-node',
    });
    const jobs = await old.insertAll(Array.from({ length: 20 }, (_, n) => newJob(NewWorker, { n })));
    // The old node claims them all and gives each back.
    await waitFor('the old node to give the jobs back', async () => {
      const states = await old.listJobs({ worker: 'NewWorker', limit: 100 });
      return states.every((job) => job.state === 'scheduled' && job.errors.length === 1);
    });
    // The deploy goes on: a new node comes up beside the old one, then the old one stops.
    const fresh = await startKoban({
      database: url,
      queues: { deploy: 5 },
      workers: [OldWorker, NewWorker],
      node: 'new-node',
    });
    await old.stop();
    await waitFor(
      'every job to complete',
      async () => {
        const done = await fresh.listJobs({ worker: 'NewWorker', state: 'completed', limit: 100 });
        return done.length === 20;
      },
      30_000,
    );
    expect(ran.sort()).toEqual(jobs.map((_, n) => String(n)).sort());
    const rows = await withSql(
      url,
      (sql) => sql`
      SELECT attempt, attempted_by, cancelled_at, discarded_at FROM koban.all_jobs WHERE worker = 'NewWorker'`,
    );
    for (const row of rows) {
      // The give-backs did not spend attempts; the job ran once, on the new node.
      expect(row.attempt).toBe(1);
      expect(row.attempted_by.at(-1)).toBe('new-node');
      expect(row.attempted_by).toContain('old-node');
      expect(row.cancelled_at).toBeNull();
      expect(row.discarded_at).toBeNull();
    }
  });
});

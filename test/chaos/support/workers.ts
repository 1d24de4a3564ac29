import { defineWorker, type Job } from '../../../index.js';

/** A job that takes `ms` milliseconds (default none) and succeeds. */
export class ChaosWorker {
  async process(job: Job<{ ms?: number }>) {
    if (job.args.ms) await new Promise((resolve) => setTimeout(resolve, job.args.ms));
  }
}
defineWorker(ChaosWorker, { queue: 'chaos', maxAttempts: 20 });

/** Jobs as inserted by plain SQL, so that inserting does not depend on the node under test. */
export function insertChaosJobs(count: number, ms = 0): string {
  return `INSERT INTO koban.jobs (worker, queue, args)
    SELECT 'ChaosWorker', 'chaos', '{"ms": ${ms}}'::jsonb FROM generate_series(1, ${count})`;
}

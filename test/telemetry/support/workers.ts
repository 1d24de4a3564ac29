import { existsSync } from 'node:fs';
import { defineWorker, type Job } from '../../../index.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reports progress in a tight loop, then waits until the file `release` exists (so the test can
 * read its progress while it runs), then reports that it is done.
 */
export class ProgressWorker {
  async process(job: Job<{ release: string; steps: number }>) {
    for (let step = 0; step < job.args.steps; step++) job.progress({ stage: 'download', percent: step });
    while (!existsSync(job.args.release)) await pause(20);
    job.progress({ stage: 'done', percent: 100 });
  }
}
defineWorker(ProgressWorker, { queue: 'telemetry' });

export const telemetryWorkers = [ProgressWorker];

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

/** Completes; with `fail`, throws a TypeError (one attempt: discarded). */
export class TracedWorker {
  async process(job: Job<{ fail: boolean }>) {
    if (job.args.fail) throw new TypeError('no such order');
  }
}
defineWorker(TracedWorker, { queue: 'telemetry', maxAttempts: 1 });

/** A workflow step that does nothing. */
export class TracedStep {
  async process(_job: Job<{ step: string }>) {}
}
defineWorker(TracedStep, { queue: 'telemetry' });
export const telemetryWorkers = [ProgressWorker, TracedWorker, TracedStep];

import { defineWorker, type Job } from '../../index.js';

// The workers of the cron tests: their jobs stay in a queue no node runs, so the tests read them.

export class CronReport {
  async process(_job: Job<{ kind: 'daily' | 'weekly'; n?: number }>) {}
}
defineWorker(CronReport, { queue: 'cron_idle', priority: 3, maxAttempts: 7 });

export class CronPing {
  async process(_job: Job<Record<string, never>>) {}
}
defineWorker(CronPing, { queue: 'cron_idle' });

export const cronWorkers = [CronReport, CronPing];

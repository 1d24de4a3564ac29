import { type Job, Worker } from 'koban';

@Worker({ queue: 'imports', maxAttempts: 5, unique: { period: 60, states: 'incomplete' } })
export class ImportWorker {
  async process(job: Job<{ importId: number }>): Promise<void> {
    if (job.args.importId < 0) throw new Error('import ids are positive');
  }
}

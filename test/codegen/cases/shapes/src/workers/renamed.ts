import { type Job, Worker } from 'koban';

type Base = { id: string };

/** Renamed from LegacyWorker: the stored name keeps queued jobs running. */
@Worker({ name: 'LegacyWorker', queue: 'default' })
export class RenamedWorker {
  async process(job: Job<Base & { retries?: number; flags: Record<string, boolean> }>): Promise<void> {
    console.log(job.args.id);
  }
}

import { type Job, Worker } from 'koban';

type DigestType = 'daily' | 'weekly';

@Worker({
  queue: 'digests',
  unique: {
    period: 'infinity',
    states: ['available', 'scheduled', 'executing'],
    keys: ['userId', 'type'],
    replace: ['scheduledAt'],
  },
})
export class DigestWorker {
  async process(job: Job<{ userId: number; type: DigestType; sections?: string[] }>): Promise<void> {
    console.log(job.args.type);
  }
}

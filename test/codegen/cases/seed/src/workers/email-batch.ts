import { type Job, Worker } from 'koban';

export interface EmailArgs {
  email: string;
  batchId: string;
}

@Worker({ queue: 'mailers' })
export class EmailBatchWorker {
  async process(job: Job<EmailArgs>): Promise<void> {
    console.log(`sending to ${job.args.email}`);
  }

  async handleCompleted(job: Job<EmailArgs>): Promise<void> {
    console.log(`batch done: ${job.args.batchId}`);
  }

  async handleExhausted(_job: Job<EmailArgs>): Promise<void> {}
}

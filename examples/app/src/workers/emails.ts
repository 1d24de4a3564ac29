import { type BatchCallbacks, type Job, Worker } from 'koban';

// The seed's email batch: one job per address, and callbacks that run once per batch.

export interface BatchEvent {
  readonly batchId: string;
  readonly callback: 'handleCompleted' | 'handleExhausted';
  readonly completed: number;
  readonly discarded: number;
}

export const batchEvents: BatchEvent[] = [];

async function note(callback: BatchEvent['callback'], job: Job<unknown>) {
  const counts = await job.batch!.counts();
  batchEvents.push({
    batchId: job.batch!.id,
    callback,
    completed: counts.completed,
    discarded: counts.discarded,
  });
}

@Worker({ queue: 'mailers', maxAttempts: 2 })
export class EmailBatchWorker implements BatchCallbacks<{ email: string }> {
  async process(job: Job<{ email: string }>): Promise<void> {
    if (job.args.email.startsWith('broken')) throw new Error(`mailbox ${job.args.email} does not exist`);
  }

  /** Retries come a tenth of a second later, for the demo. */
  backoff() {
    return 0.1;
  }

  async handleCompleted(job: Job<{ email: string }>) {
    await note('handleCompleted', job);
  }

  async handleExhausted(job: Job<{ email: string }>) {
    await note('handleExhausted', job);
  }
}

import { defineWorker, type Job } from '../index.js';

/** The no-op worker of the scaling rows, shared by the inserting process and the nodes. */
export class Noop {
  async process(_job: Job<{ n: number }>): Promise<void> {}
}
defineWorker(Noop, { queue: 'bench' });

import { type Job, Worker } from 'koban';
import type { NoArgs } from './types.js';

@Worker({ queue: 'fan_in' })
export class StepA {
  async process(_job: Job<NoArgs>): Promise<void> {}
}

@Worker({ queue: 'fan_in' })
export class StepB {
  async process(_job: Job<NoArgs>): Promise<void> {}
}

@Worker({ queue: 'fan_in' })
export class StepC {
  async process(_job: Job<NoArgs>): Promise<void> {}
}

@Worker({ queue: 'fan_in' })
export class MergeWorker {
  async process(_job: Job<NoArgs>): Promise<void> {}
}

import { type Job, Recorded, Worker } from 'koban';
import type { NoArgs } from './types.js';

@Worker({ queue: 'pipelines' })
@Recorded()
export class ExtractWorker {
  async process(job: Job<{ dataId: number }>): Promise<{ rows: number[] }> {
    return { rows: [job.args.dataId] };
  }
}

@Worker({ queue: 'pipelines' })
@Recorded()
export class TransformWorker {
  async process(_job: Job<NoArgs>): Promise<{ rows: number[] }> {
    return { rows: [] };
  }
}

@Worker({ queue: 'pipelines' })
export class LoadWorker {
  async process(_job: Job<NoArgs>): Promise<void> {}
}

@Worker({ queue: 'pipelines' })
export class ExtraWorker {
  async process(_job: Job<NoArgs>): Promise<void> {}
}

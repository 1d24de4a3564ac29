import { type Job, Worker } from 'koban';

@Worker({ queue: 'media' })
export class FetchWorker {
  async process(job: Job<{ url: string }>): Promise<void> {
    console.log(job.args.url);
  }
}

@Worker({ queue: 'media' })
export class ResizeWorker {
  async process(job: Job<{ size: 'small' | 'medium' | 'large' }>): Promise<void> {
    console.log(job.args.size);
  }
}

import { type Job, Recorded, Worker } from 'koban';

/** Args keys named like the validators' own parameters, and a result of any shape. */
@Worker({ queue: 'probes' })
@Recorded({ limit: 1024 })
export class ProbeWorker {
  async process(job: Job<{ mode: 'full' | 'delta'; path: string; issues?: number }>): Promise<unknown> {
    return { seen: job.args.path };
  }
}

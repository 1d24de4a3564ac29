import type { Job } from 'koban';
import { NotifyWorker } from '../generated/jobs.gen';
import { Worker } from '../koban';

/** A worker that builds the next job with a generated builder: its file and the generated one import each other. */
@Worker({ queue: 'relay' })
export class RelayWorker {
  async process(job: Job<{ to: string }>) {
    return NotifyWorker.new({ kind: 'email', to: job.args.to, subject: 'relayed' });
  }
}

import type { Job } from 'koban';
import { Task } from '../koban';

@Task({ queue: 'maintenance', maxAttempts: 1 })
export default class CleanupWorker {
  async process(job: Job): Promise<void> {
    console.log(Object.keys(job.args));
  }
}

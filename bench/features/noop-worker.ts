// The no-op worker of the scaling rows, shared by the inserting process and the nodes.
import type { Job } from '../../index.js';
import { loadKoban } from '../koban-dist.js';

export const koban = await loadKoban();

export class Noop {
  async process(_job: Job<{ n: number }>): Promise<void> {}
}
koban.defineWorker(Noop, { queue: 'bench' });

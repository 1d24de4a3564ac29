import type { Job } from 'koban';
import { Structured, Worker } from '../koban';

interface TreeNode {
  name: string;
  size?: number;
  children: TreeNode[];
}

@Worker({ queue: 'trees', timeout: 30_000 })
@Structured({ required: ['root'], defaults: { depth: 3 } })
export class TreeWorker {
  async process(
    job: Job<{ root: TreeNode; depth?: number; owner: { id: string; admin?: boolean } }>,
  ): Promise<void> {
    console.log(job.args.root.name);
  }
}

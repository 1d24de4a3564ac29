import { type Job, Structured, Worker } from 'koban';

export interface AuditArgs {
  userId: string;
  action: 'create' | 'update' | 'delete';
  metadata?: Record<string, unknown>;
}

@Worker({ queue: 'audit' })
@Structured({
  keys: ['userId', 'action', 'metadata'],
  required: ['userId', 'action'],
  defaults: { metadata: {} },
})
export class AuditWorker {
  async process(job: Job<AuditArgs>): Promise<void> {
    console.log(job.args.userId, job.args.action);
  }
}

import { Encrypted, type Job, Structured, Worker } from 'koban';

// The seed's Pro worker features: structured and encrypted args, unique jobs, and a cron entry.

export interface AuditArgs {
  userId: string;
  action: string;
  metadata?: { ip: string };
}

export const seenByAudit: AuditArgs[] = [];

/** A fixed key for the demo only: a real application reads its key from a secret store. */
const demoKey = Buffer.alloc(32, 7);

@Worker({ queue: 'secure' })
@Structured({ keys: ['userId', 'action', 'metadata'], required: ['userId', 'action'] })
@Encrypted({ key: () => process.env.KOBAN_DEMO_KEY ?? demoKey })
export class AuditLogWorker {
  async process(job: Job<AuditArgs>): Promise<void> {
    seenByAudit.push(job.args);
  }
}

@Worker({ queue: 'default', unique: { period: 60, keys: ['userId'] } })
export class DigestWorker {
  async process(_job: Job<{ userId: number; kind: string }>): Promise<void> {}
}

@Worker({ queue: 'default' })
export class HeartbeatWorker {
  async process(_job: Job<Record<string, never>>): Promise<void> {}
}

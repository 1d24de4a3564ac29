import { Encrypted, type Job, Worker } from 'koban';

/** Read when a job is encrypted or decrypted; gen never evaluates it. */
function encryptionKey(): string {
  const { KOBAN_KEY } = process.env;
  if (!KOBAN_KEY) throw new Error('set KOBAN_KEY to a base64 key of 32 bytes');
  return KOBAN_KEY;
}

@Worker({ queue: 'secure', unique: { keys: [], meta: ['userId'] } })
@Encrypted({ key: encryptionKey })
export class SensitiveWorker {
  async process(job: Job<{ ssn: string; userId: number }>): Promise<void> {
    if (job.args.ssn.length === 0) throw new Error('empty');
  }
}

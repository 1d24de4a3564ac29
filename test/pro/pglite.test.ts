import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, Koban, newJob } from '../../index.js';
import { drainJobs } from '../../runtime/testing.js';
import { quietLogger } from '../support/wait.js';

const seen: unknown[] = [];

class SecretReportWorker {
  async process(job: Job<{ accountId: number; token: string }>) {
    seen.push(job.args);
    return { lines: Array.from({ length: 2000 }, () => `account ${job.args.accountId}`) };
  }
}
defineWorker(SecretReportWorker, {
  queue: 'pglite',
  encrypted: { key: randomBytes(32) },
  recorded: { encrypted: true },
  unique: { keys: ['accountId'] },
});

let koban: Koban;
beforeAll(async () => {
  koban = await Koban.start({ queues: {}, logger: quietLogger, workers: [SecretReportWorker] });
});
afterAll(() => koban.stop());

describe('Pro features on embedded PGlite', () => {
  it('unique, encrypted, recorded and compressed: one job, run with plaintext args, value read back', async () => {
    const first = await koban.insert(newJob(SecretReportWorker, { accountId: 1, token: 'pglite-secret' }));
    const second = await koban.insert(newJob(SecretReportWorker, { accountId: 1, token: 'other' }));
    expect(second).toMatchObject({ id: first.id, conflict: true });
    const result = await koban.db.execute(
      sql`SELECT j::text AS text FROM koban.all_jobs j WHERE id = ${first.id}`,
    );
    const [stored] = (result as unknown as { rows: { text: string }[] }).rows;
    expect(stored!.text).not.toContain('pglite-secret');
    expect((await drainJobs(koban, { queue: 'pglite' })).completed).toBe(1);
    expect(seen).toEqual([{ accountId: 1, token: 'pglite-secret' }]);
    const recorded = await koban.fetchRecorded(first);
    expect(recorded.status).toBe('ok');
    expect((recorded as { value: { lines: string[] } }).value.lines).toHaveLength(2000);
  });
});

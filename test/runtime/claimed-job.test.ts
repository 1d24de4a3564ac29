import { beforeAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, newJob } from '../../index.js';
import { freshDatabase } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';

// The claim sends what most jobs share (an empty meta, a first attempt's attempted_by, a due time
// equal to the insert time) as null and the node fills it in: the job a handler sees must be the
// stored one, for the common case and for each exception.

interface Seen {
  readonly attempt: number;
  readonly attemptedBy: readonly string[];
  readonly meta: unknown;
  readonly insertedAt: number;
  readonly scheduledAt: number;
}
const seen = new Map<string, Seen[]>();

class SeenWorker {
  async process(job: Job<{ failFirst: boolean }>) {
    const list = seen.get(job.id) ?? [];
    list.push({
      attempt: job.attempt,
      attemptedBy: [...job.attemptedBy],
      meta: job.meta,
      insertedAt: job.insertedAt.getTime(),
      scheduledAt: job.scheduledAt.getTime(),
    });
    seen.set(job.id, list);
    if (job.args.failFirst && job.attempt === 1) throw new Error('first attempt fails');
  }
  backoff() {
    return 0;
  }
}
defineWorker(SeenWorker, { queue: 'seen' });

let url: string;
beforeAll(async () => {
  url = await freshDatabase();
});

describe('the claimed job', () => {
  it('carries the stored meta, attempted_by and due time, whether or not they are the usual ones', async () => {
    const koban = await startKoban({ database: url, queues: { seen: 5 } });
    const due = new Date(Date.now() - 60_000);
    const plain = await koban.insert(newJob(SeenWorker, { failFirst: true }));
    const unusual = await koban.insert(
      newJob(SeenWorker, { failFirst: false }, { meta: { source: 'import' }, scheduledAt: due }),
    );
    await waitFor('both jobs to complete', async () => {
      const jobs = await koban.listJobs({ queue: 'seen', state: 'completed' });
      return jobs.length === 2;
    });
    const storedPlain = (await koban.getJob(plain.id))!;
    expect(seen.get(plain.id)).toEqual([
      {
        attempt: 1,
        attemptedBy: [koban.node],
        meta: {},
        insertedAt: storedPlain.insertedAt.getTime(),
        scheduledAt: storedPlain.insertedAt.getTime(),
      },
      expect.objectContaining({ attempt: 2, attemptedBy: [koban.node, koban.node], meta: {} }),
    ]);
    expect(storedPlain.attemptedBy).toEqual([koban.node, koban.node]);
    const storedUnusual = (await koban.getJob(unusual.id))!;
    expect(storedUnusual.scheduledAt.getTime()).toBe(due.getTime());
    expect(seen.get(unusual.id)).toEqual([
      {
        attempt: 1,
        attemptedBy: [koban.node],
        meta: { source: 'import' },
        insertedAt: storedUnusual.insertedAt.getTime(),
        scheduledAt: due.getTime(),
      },
    ]);
  });
});

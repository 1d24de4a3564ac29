import { afterAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, Koban } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { quietLogger, waitFor } from '../support/wait.js';

// Rescued jobs used to go to the back of the queue (the last rerun completed 76 s after the kill
// under load): the rescue set their due time to now. A rescued job now keeps its place.

const order: string[] = [];
class OrderedWorker {
  async process(job: Job) {
    order.push(job.id);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
defineWorker(OrderedWorker, { queue: 'ordered' });

let koban: Koban | undefined;
afterAll(() => koban?.stop());

describe('a rescued job', () => {
  it('keeps its place in the queue, ahead of the jobs inserted after it', async () => {
    const url = await freshDatabase();
    // A job a node that died took a minute ago, inserted before the twenty that wait now.
    const [orphan] = await withSql(
      url,
      (sql) => sql<{ id: string }[]>`
        INSERT INTO koban.jobs (worker, queue, args, state, attempt, scheduled_at, attempted_at, attempted_by)
        VALUES ('OrderedWorker', 'ordered', '{}', 'executing', 1, now() - interval '2 minutes',
                now() - interval '1 minute', ARRAY['dead-node'])
        RETURNING id::text`,
    );
    await withSql(
      url,
      (sql) => sql`
        INSERT INTO koban.jobs (worker, queue, args) SELECT 'OrderedWorker', 'ordered', '{}' FROM generate_series(1, 20)`,
    );
    koban = await Koban.start({
      database: url,
      queues: {},
      workers: [OrderedWorker],
      logger: quietLogger,
      heartbeatInterval: 200,
      rescueAfter: 600,
      blockTolerance: 0,
    });
    await waitFor('the rescue', async () => (await koban!.getJob(orphan!.id))?.state === 'available');
    // Only now does a node run the queue, one job at a time.
    await koban.startQueue('ordered', { limit: 1 });
    await waitFor('every job run', () => order.length === 21, 30_000);
    expect(order[0]).toBe(orphan!.id);
  });
});

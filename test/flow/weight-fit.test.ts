import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Koban, KobanConfigError, KobanValidationError, newJob } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { quietLogger, waitFor } from '../support/wait.js';
import {
  closeFlowRecorder,
  createFlowRunsTable,
  FlowWorker,
  flowWorkers,
  openFlowRecorder,
} from './support/flow-workers.js';

// A job heavier than a limit of its queue could never start: it is refused where its limits are
// known (an insert on a node that runs the queue, a worker's weight at start or at a change of
// limits), and where they are not, it is passed over by the claims instead of holding them up.

let url: string;
beforeAll(async () => {
  url = await freshDatabase();
  await withSql(url, (sql) => sql.unsafe(createFlowRunsTable));
  openFlowRecorder(url);
});
afterAll(closeFlowRecorder);

const limited = { limit: 5, global: { limit: 2 }, partition: { by: { args: ['tenant'] }, limit: 2 } };

describe('weights heavier than a limit', { timeout: 60_000 }, () => {
  it('are refused at insert on a node that runs the queue', async () => {
    const koban = await startKoban({ database: url, queues: { fit: limited }, workers: flowWorkers });
    const heavy = newJob(FlowWorker, { tenant: 'a' }, { queue: 'fit', weight: 3 });
    await expect(koban.insert(heavy)).rejects.toThrow(KobanValidationError);
    await expect(koban.insert(heavy)).rejects.toThrow(
      'insert FlowWorker: weight: 3 is more than the smallest limit of queue fit (2): the job could never start',
    );
    expect(
      await koban.insert(newJob(FlowWorker, { tenant: 'a' }, { queue: 'fit', weight: 2 })),
    ).toBeDefined();
  });

  it("fail Koban.start and updateQueue when a worker's weight is more than its queue's limit", async () => {
    // HeavyFlowWorker weighs 2 and runs in queue `limited`.
    const start = Koban.start({
      database: url,
      logger: quietLogger,
      queues: { limited: { limit: 5, rateLimit: { allowed: 1, period: 1 } } },
      workers: flowWorkers,
    });
    await expect(start).rejects.toThrow(KobanConfigError);
    await expect(start).rejects.toThrow(
      "queues.limited: HeavyFlowWorker has weight 2, more than the queue's smallest limit (1): its jobs could never start",
    );
    const koban = await startKoban({ database: url, queues: { limited: 5 }, workers: flowWorkers });
    await expect(koban.updateQueue('limited', { global: { limit: 1 } })).rejects.toThrow(
      `updateQueue("limited"): HeavyFlowWorker has weight 2`,
    );
    await koban.updateQueue('limited', { global: { limit: 2 } });
  });

  it('never hold up the queue when inserted where the limits are not known', async () => {
    // A client that runs no queue inserts the heavy job first, in the partition of the others.
    const client = await startKoban({ database: url, queues: {}, workers: flowWorkers });
    const [heavy, ...light] = await client.insertAll([
      newJob(FlowWorker, { tenant: 'w' }, { queue: 'wedge', weight: 3, priority: 0 }),
      ...Array.from({ length: 6 }, () =>
        newJob(FlowWorker, { tenant: 'w', ms: 5 }, { queue: 'wedge', priority: 1 }),
      ),
    ]);
    const node = await startKoban({
      database: url,
      queues: { wedge: limited },
      workers: flowWorkers,
      pollInterval: 50,
    });
    await waitFor('the light jobs to run past the heavy one', async () => {
      const states = await Promise.all(light.map(async (job) => (await node.getJob(job.id))?.state));
      return states.every((state) => state === 'completed');
    });
    expect((await node.getJob(heavy!.id))?.state).toBe('available');
  });
});

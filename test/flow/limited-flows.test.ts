import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batch, type Koban, newJob, workflow } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';
import {
  closeFlowRecorder,
  createFlowRunsTable,
  FlowWorker,
  flowWorkers,
  LimitedBatchWorker,
  maxOverlap,
  openFlowRecorder,
} from './support/flow-workers.js';

// Workflows and batches on a queue with a global limit of 1: their jobs keep to it, a step held
// for its deps takes no slot, and a batch's callback fires once.

let url: string;
let koban: Koban;
beforeAll(async () => {
  url = await freshDatabase();
  await withSql(url, (sql) => sql.unsafe(createFlowRunsTable));
  openFlowRecorder(url);
});
afterAll(closeFlowRecorder);

const start = () =>
  startKoban({
    database: url,
    workers: flowWorkers,
    pollInterval: 50,
    queues: { flows: { limit: 5, global: { limit: 1 } }, gate: { limit: 1, paused: true } },
  });

const stateOf = async (id: string) => (await koban.getJob(id))?.state;

describe('workflows and batches on limited queues', { timeout: 120_000 }, () => {
  it('leave a held step out of the limit and release it into it', async () => {
    koban = await start();
    const [gate, held] = await koban.insertAll(
      workflow()
        .add('gate', newJob(FlowWorker, {}, { queue: 'gate' }))
        .add('held', newJob(FlowWorker, { tenant: 'held' }, { queue: 'flows' }), { deps: ['gate'] }),
    );
    expect(await stateOf(held!.id)).toBe('held');
    // The only slot is free while the step is held: another job of the queue runs.
    const other = await koban.insert(newJob(FlowWorker, { ms: 20 }, { queue: 'flows' }));
    await waitFor('the other job to complete', async () => (await stateOf(other.id)) === 'completed');
    expect(await stateOf(held!.id)).toBe('held');
    await koban.resumeQueue('gate');
    await waitFor('the released step to complete', async () => (await stateOf(held!.id)) === 'completed');
    expect(await stateOf(gate!.id)).toBe('completed');
  });

  it('run a batch within the limit and fire its callback once', async () => {
    koban = await start();
    const jobs = await koban.insertAll(
      batch(
        Array.from({ length: 8 }, () => newJob(LimitedBatchWorker, { ms: 15 })),
        { batchName: 'limited' },
      ),
    );
    await waitFor('the batch callback', () =>
      withSql(url, async (sql) => {
        const [row] = await sql<
          { n: number }[]
        >`SELECT count(*)::int AS n FROM public.flow_runs WHERE tenant = 'callback'`;
        return row!.n >= 1;
      }),
    );
    expect(await Promise.all(jobs.map((job) => stateOf(job.id)))).toEqual(jobs.map(() => 'completed'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [row] = await withSql(
      url,
      (sql) =>
        sql<{ n: number }[]>`SELECT count(*)::int AS n FROM public.flow_runs WHERE tenant = 'callback'`,
    );
    expect(row!.n).toBe(1);
    expect((await maxOverlap(url, 'queue')).get('flows')).toBe(1);
  });
});

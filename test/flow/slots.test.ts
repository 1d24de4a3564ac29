import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Koban, newJob } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';
import { spawnFlowNode } from './support/flow-processes.js';
import {
  closeFlowRecorder,
  createFlowRunsTable,
  FlowWorker,
  flowWorkers,
  openFlowRecorder,
} from './support/flow-workers.js';

// A slot is the executing row itself: whatever takes a job out of `executing` gives its slot
// back, so no outcome, crash or abort can leave a limit stuck.

const timers = { heartbeatInterval: 200, rescueAfter: 2000, blockTolerance: 1000 };
let url: string;
beforeAll(async () => {
  url = await freshDatabase();
  await withSql(url, (sql) => sql.unsafe(createFlowRunsTable));
  openFlowRecorder(url);
});
afterAll(closeFlowRecorder);

const stateOf = async (koban: Koban, id: string) => (await koban.getJob(id))?.state;

describe('slots of cluster-wide limits', { timeout: 120_000 }, () => {
  it('come back from every outcome: error, snooze, cancel, discard, timeout', async () => {
    // One slot for the whole cluster: each job below starts only once the one before gave it back.
    const koban = await startKoban({
      database: url,
      queues: { outcomes: { limit: 5, global: { limit: 1 } } },
      workers: flowWorkers,
      pollInterval: 50,
    });
    const endings = ['error', 'snooze', 'cancel', 'discard', 'timeout'] as const;
    const jobs = await koban.insertAll(
      endings.map((first) =>
        newJob(FlowWorker, { first }, { queue: 'outcomes', maxAttempts: first === 'discard' ? 3 : 2 }),
      ),
    );
    const last = await koban.insert(newJob(FlowWorker, {}, { queue: 'outcomes' }));
    await waitFor(
      'the last job to complete',
      async () => (await stateOf(koban, last.id)) === 'completed',
      60_000,
    );
    // The failed and timed-out attempts wait for their retries, the snoozed job ran again: none
    // of them kept the slot that the jobs after them took.
    const states = () => Promise.all(jobs.map((job) => stateOf(koban, job.id)));
    await waitFor('the snoozed job to run again', async () => (await states())[1] === 'completed');
    expect(await states()).toEqual(['retryable', 'completed', 'cancelled', 'discarded', 'retryable']);
    const [row] = await withSql(
      url,
      (sql) =>
        sql<{ most: number }[]>`
        SELECT max((SELECT count(*) FROM public.flow_runs o WHERE o.queue = 'outcomes'
          AND o.started_at <= r.started_at AND (o.ended_at IS NULL OR o.ended_at > r.started_at)))::int AS most
        FROM public.flow_runs r WHERE r.queue = 'outcomes'`,
    );
    expect(row!.most).toBe(1);
  });

  it('come back when the jobs of a node killed with SIGKILL are rescued', async () => {
    const queues = { crash: { limit: 5, global: { limit: 2 } } };
    const doomed = await spawnFlowNode({ url, node: 'doomed', queues, ...timers });
    const inserter = await startKoban({ database: url, workers: flowWorkers, ...timers });
    // Both slots are taken by jobs that hang on their first attempt: nothing else may start.
    const hung = await inserter.insertAll([
      newJob(FlowWorker, { first: 'hang' }, { queue: 'crash' }),
      newJob(FlowWorker, { first: 'hang' }, { queue: 'crash' }),
    ]);
    const after = await inserter.insertAll(
      Array.from({ length: 4 }, () => newJob(FlowWorker, { ms: 5 }, { queue: 'crash' })),
    );
    await waitFor('both slots to be taken on the doomed node', () =>
      withSql(url, async (sql) => {
        const [row] = await sql<
          { n: number }[]
        >`SELECT count(*)::int AS n FROM public.flow_runs WHERE queue = 'crash'`;
        return row!.n === 2;
      }),
    );
    const survivor = await startKoban({
      database: url,
      node: 'survivor',
      queues,
      workers: flowWorkers,
      pollInterval: 50,
      ...timers,
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await Promise.all(after.map((job) => stateOf(survivor, job.id)))).toEqual([
      'available',
      'available',
      'available',
      'available',
    ]);
    await doomed.kill();
    await waitFor(
      'every job to complete on the survivor',
      async () =>
        (await Promise.all([...hung, ...after].map((job) => stateOf(survivor, job.id)))).every(
          (s) => s === 'completed',
        ),
      60_000,
    );
    const rescued = await survivor.getJob(hung[0]!.id);
    expect(rescued?.attemptedBy).toEqual(['doomed', 'survivor']);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Koban, newJob } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';
import {
  closeFlowRecorder,
  createFlowRunsTable,
  FlowWorker,
  flowWorkers,
  openFlowRecorder,
  QuickRetryWorker,
} from './support/flow-workers.js';

// Chains: an ordered partition of limit 1 runs one job per value at a time, in insertion order,
// across nodes; a retried link keeps its place; a discarded link is skipped or holds the chain.

let url: string;
beforeAll(async () => {
  url = await freshDatabase();
  await withSql(url, (sql) => sql.unsafe(createFlowRunsTable));
  openFlowRecorder(url);
});
afterAll(closeFlowRecorder);

const chain = (onFailure: 'skip' | 'hold') => ({
  limit: 10,
  partition: { by: { args: ['tenant'] }, limit: 1, ordered: true, onFailure },
});

async function nodes(queues: Record<string, ReturnType<typeof chain>>): Promise<Koban[]> {
  return Promise.all(
    ['a', 'b'].map((node) =>
      startKoban({ database: url, node, queues, workers: flowWorkers, pollInterval: 50 }),
    ),
  );
}

const stateOf = async (koban: Koban, id: string) => (await koban.getJob(id))?.state;

describe('chains', { timeout: 120_000 }, () => {
  it('run each chain one job at a time in insertion order, a retried link keeping its place', async () => {
    const [a] = await nodes({ chains: chain('skip') });
    const tenants = ['t1', 't2', 't3'];
    const jobs = await a!.insertAll(
      Array.from({ length: 30 }, (_, index) =>
        newJob(QuickRetryWorker, {
          tenant: tenants[index % 3]!,
          ms: 5 + ((index * 7) % 20),
          ...(index === 10 ? { first: 'error' as const } : {}),
        }),
      ),
    );
    await waitFor(
      'every link to complete',
      async () =>
        (await Promise.all(jobs.map((job) => stateOf(a!, job.id)))).every((state) => state === 'completed'),
      90_000,
    );
    const runs = await withSql(
      url,
      (sql) =>
        sql<{ tenant: string; jobId: string; startedAt: Date; endedAt: Date; node: string }[]>`
        SELECT tenant, job_id::text AS "jobId", started_at AS "startedAt", ended_at AS "endedAt", node
        FROM public.flow_runs WHERE queue = 'chains' ORDER BY started_at`,
    );
    expect(runs).toHaveLength(31);
    for (const tenant of tenants) {
      const own = runs.filter((run) => run.tenant === tenant);
      // Insertion order, the failed link run twice before the next one starts.
      const ids = own.map((run) => Number(run.jobId));
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
      for (let index = 1; index < own.length; index++) {
        expect(own[index]!.startedAt.getTime()).toBeGreaterThanOrEqual(own[index - 1]!.endedAt.getTime());
      }
    }
    expect(new Set(runs.map((run) => run.node))).toEqual(new Set(['a', 'b']));
  });

  it('skip a discarded link by default, or hold the chain until it is retried', async () => {
    const [a] = await nodes({ skipping: chain('skip'), holding: chain('hold') });
    const [skipFirst, skipNext] = await a!.insertAll([
      newJob(FlowWorker, { tenant: 's', first: 'discard' }, { queue: 'skipping' }),
      newJob(FlowWorker, { tenant: 's' }, { queue: 'skipping' }),
    ]);
    const [holdFirst, holdNext] = await a!.insertAll([
      newJob(FlowWorker, { tenant: 'h', first: 'discard' }, { queue: 'holding' }),
      newJob(FlowWorker, { tenant: 'h' }, { queue: 'holding' }),
    ]);
    await waitFor(
      'the skipping chain to move on',
      async () => (await stateOf(a!, skipNext!.id)) === 'completed',
    );
    expect(await stateOf(a!, skipFirst!.id)).toBe('discarded');
    await waitFor(
      'the held link to be discarded',
      async () => (await stateOf(a!, holdFirst!.id)) === 'discarded',
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await stateOf(a!, holdNext!.id)).toBe('available');
    // Retried, the link runs again (and completes); the chain goes on after it.
    await a!.retryJob(holdFirst!.id);
    await waitFor('the held chain to finish', async () => (await stateOf(a!, holdNext!.id)) === 'completed');
    expect(await stateOf(a!, holdFirst!.id)).toBe('completed');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Koban, KobanValidationError, newJob } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';
import {
  AccountsFlowWorker,
  ChainedFlowWorker,
  chainedFlowWorkers,
  closeFlowRecorder,
  createFlowRunsTable,
  HoldingChainWorker,
  openFlowRecorder,
} from './support/flow-workers.js';

// A worker-level chain (`@Worker({ chain: { by } })`): the worker's jobs run one per chain value
// at a time, in insertion order, across nodes; the other workers of its queue are not held.

let url: string;
beforeAll(async () => {
  url = await freshDatabase();
  await withSql(url, (sql) => sql.unsafe(createFlowRunsTable));
  openFlowRecorder(url);
});
afterAll(closeFlowRecorder);

const nodes = (): Promise<Koban[]> =>
  Promise.all(
    ['a', 'b'].map((node) =>
      startKoban({
        database: url,
        node,
        queues: { accounts: 10 },
        workers: chainedFlowWorkers,
        pollInterval: 50,
      }),
    ),
  );

const stateOf = async (koban: Koban, id: string) => (await koban.getJob(id))?.state;

interface Run {
  tenant: string | null;
  jobId: string;
  startedAt: Date;
  endedAt: Date;
  node: string;
}

describe('worker chains', { timeout: 120_000 }, () => {
  it("run each chain's links one at a time in insertion order, on two nodes, a retried link keeping its place", async () => {
    const [a] = await nodes();
    const tenants = ['t1', 't2', 't3'];
    const jobs = await a!.insertAll(
      Array.from({ length: 30 }, (_, index) =>
        newJob(ChainedFlowWorker, {
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
      (sql) => sql<Run[]>`
        SELECT tenant, job_id::text AS "jobId", started_at AS "startedAt", ended_at AS "endedAt", node
        FROM public.flow_runs WHERE job_id = ANY(${jobs.map((job) => job.id)}::bigint[]) ORDER BY started_at`,
    );
    expect(runs).toHaveLength(31);
    for (const tenant of tenants) {
      const own = runs.filter((run) => run.tenant === tenant);
      const ids = own.map((run) => Number(run.jobId));
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
      for (let index = 1; index < own.length; index++) {
        expect(own[index]!.startedAt.getTime()).toBeGreaterThanOrEqual(own[index - 1]!.endedAt.getTime());
      }
    }
    expect(new Set(runs.map((run) => run.node))).toEqual(new Set(['a', 'b']));
  });

  it('hold a chain at a discarded link while the queue and the other chains go on', async () => {
    const [a] = await nodes();
    const [held, behind] = await a!.insertAll([
      newJob(HoldingChainWorker, { tenant: 'h', first: 'discard' }),
      newJob(HoldingChainWorker, { tenant: 'h' }),
    ]);
    await waitFor('the link to be discarded', async () => (await stateOf(a!, held!.id)) === 'discarded');
    // Inserted after the held link, an unchained job of the queue and another chain's link run.
    const [other, unchained] = await a!.insertAll([
      newJob(HoldingChainWorker, { tenant: 'other' }),
      newJob(AccountsFlowWorker, { tenant: 'h' }),
    ]);
    await waitFor('the other chain to run', async () => (await stateOf(a!, other!.id)) === 'completed');
    await waitFor('the unchained job to run', async () => (await stateOf(a!, unchained!.id)) === 'completed');
    expect(await stateOf(a!, behind!.id)).toBe('available');
    await a!.retryJob(held!.id);
    await waitFor('the held chain to finish', async () => (await stateOf(a!, behind!.id)) === 'completed');
  });

  it("refuse a chained worker's job sent to another queue than the worker's", async () => {
    const [a] = await nodes();
    await expect(
      a!.insert(newJob(ChainedFlowWorker, { tenant: 'x' }, { queue: 'elsewhere' })),
    ).rejects.toThrow(KobanValidationError);
    await expect(
      a!.insert(newJob(ChainedFlowWorker, { tenant: 'x' }, { queue: 'elsewhere' })),
    ).rejects.toThrow('ChainedFlowWorker is chained: its jobs run in its queue accounts, got elsewhere');
  });
});

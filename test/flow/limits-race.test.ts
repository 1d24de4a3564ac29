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
  HeavyFlowWorker,
  maxOverlap,
  openFlowRecorder,
} from './support/flow-workers.js';

// Three nodes, each with its own pool of connections, claim from the same limited queues at once.
// Every attempt records its start and end inside `process`; the most that ran at once, measured
// there, never passes a limit, and reaches it (so the test would see a limit that leaks).

let url: string;
beforeAll(async () => {
  url = await freshDatabase();
  await withSql(url, (sql) => sql.unsafe(createFlowRunsTable));
  openFlowRecorder(url);
});
afterAll(closeFlowRecorder);

async function threeNodes(queues: Parameters<typeof startKoban>[0]['queues']): Promise<Koban[]> {
  return Promise.all(
    ['a', 'b', 'c'].map((name) =>
      startKoban({ database: url, node: name, queues, workers: flowWorkers, pollInterval: 50, poolSize: 4 }),
    ),
  );
}

async function completed(koban: Koban, total: number): Promise<void> {
  await waitFor(
    `${total} jobs completed`,
    async () => (await koban.listJobs({ state: 'completed', limit: total + 1 })).length === total,
    90_000,
  );
}

describe('cluster-wide limits under racing claims', { timeout: 120_000 }, () => {
  it('never runs more than the global and partition limits, across three nodes', async () => {
    const [a] = await threeNodes({
      races: { limit: 10, global: { limit: 5 }, partition: { by: { args: ['tenant'] }, limit: 2 } },
    });
    // Three tenants of limit 2 could run 6 at once: the global limit of 5 binds as well.
    const tenants = ['t1', 't2', 't3'];
    await a!.insertAll(
      Array.from({ length: 210 }, (_, index) =>
        newJob(
          FlowWorker,
          { tenant: tenants[index % tenants.length]!, ms: 5 + (index % 4) * 5 },
          { queue: 'races' },
        ),
      ),
    );
    await completed(a!, 210);

    const byQueue = await maxOverlap(url, 'queue');
    const byTenant = await maxOverlap(url, 'tenant');
    expect(byQueue.get('races')).toBe(5);
    for (const tenant of tenants) expect(byTenant.get(`races/${tenant}`)).toBeLessThanOrEqual(2);
    expect(Math.max(...tenants.map((tenant) => byTenant.get(`races/${tenant}`)!))).toBe(2);
    // Every node took part.
    const nodes = await withSql(
      url,
      (sql) =>
        sql<
          { node: string }[]
        >`SELECT DISTINCT node FROM public.flow_runs WHERE queue = 'races' ORDER BY node`,
    );
    expect(nodes.map((row) => row.node)).toEqual(['a', 'b', 'c']);
  });

  it('counts a job by its weight', async () => {
    const [a] = await threeNodes({ heavy: { limit: 8, global: { limit: 5 } } });
    await a!.insertAll(
      Array.from({ length: 90 }, (_, index) =>
        index % 3 === 0
          ? newJob(HeavyFlowWorker, { ms: 10 }, { queue: 'heavy' })
          : newJob(FlowWorker, { ms: 10 }, { queue: 'heavy', ...(index % 3 === 1 ? { weight: 3 } : {}) }),
      ),
    );
    await completed(a!, 90 + 210);
    const byQueue = await maxOverlap(url, 'queue');
    expect(byQueue.get('heavy')).toBeLessThanOrEqual(5);
    expect(byQueue.get('heavy')).toBeGreaterThanOrEqual(4);
  });

  it('holds a rate limit in every sliding window, across nodes', async () => {
    const [a] = await threeNodes({ rated: { limit: 10, rateLimit: { allowed: 8, period: 1 } } });
    const started = Date.now();
    await a!.insertAll(Array.from({ length: 40 }, () => newJob(FlowWorker, {}, { queue: 'rated' })));
    await completed(a!, 90 + 210 + 40);
    const elapsed = Date.now() - started;
    // 40 starts at 8 a second: the fifth batch can start only after four windows.
    expect(elapsed).toBeGreaterThan(4000);
    const [row] = await withSql(
      url,
      (sql) =>
        sql<{ most: number }[]>`
        SELECT max((SELECT count(*) FROM public.flow_runs o WHERE o.queue = 'rated'
          AND o.started_at >= r.started_at AND o.started_at < r.started_at + interval '800 milliseconds'))::int AS most
        FROM public.flow_runs r WHERE r.queue = 'rated'`,
    );
    expect(row!.most).toBe(8);
  });
});

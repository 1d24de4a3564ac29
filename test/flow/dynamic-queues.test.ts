import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Koban, KobanValidationError, newJob } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';
import {
  closeFlowRecorder,
  createFlowRunsTable,
  FlowWorker,
  flowWorkers,
  openFlowRecorder,
} from './support/flow-workers.js';

// Queues started, changed and stopped at run time: stored, signalled to every node at once, and
// read by nodes that start later.

let url: string;
beforeAll(async () => {
  url = await freshDatabase();
  await withSql(url, (sql) => sql.unsafe(createFlowRunsTable));
  openFlowRecorder(url);
});
afterAll(closeFlowRecorder);

const node = (name: string, queues: Record<string, number> = {}) =>
  startKoban({ database: url, node: name, queues, workers: flowWorkers, pollInterval: 50 });

async function overlapSince(queue: string, id: number): Promise<number> {
  const [row] = await withSql(
    url,
    (sql) =>
      sql<{ most: number }[]>`
      SELECT coalesce(max((SELECT count(*) FROM public.flow_runs o WHERE o.queue = ${queue} AND o.id > ${id}
        AND o.started_at <= r.started_at AND (o.ended_at IS NULL OR o.ended_at > r.started_at))), 0)::int AS most
      FROM public.flow_runs r WHERE r.queue = ${queue} AND r.id > ${id}`,
  );
  return row!.most;
}

const lastRun = async () =>
  withSql(
    url,
    async (sql) =>
      (await sql<{ id: number }[]>`SELECT coalesce(max(id), 0)::int AS id FROM public.flow_runs`)[0]!.id,
  );

async function allCompleted(koban: Koban, ids: readonly string[]) {
  await waitFor(
    `${ids.length} jobs to complete`,
    async () =>
      (await Promise.all(ids.map((id) => koban.getJob(id)))).every((job) => job?.state === 'completed'),
    60_000,
  );
}

describe('queues changed at run time', { timeout: 120_000 }, () => {
  it('start on every node, take new limits, stop, and stay stopped for nodes started later', async () => {
    const [a, b] = await Promise.all([node('a'), node('b')]);
    await a.startQueue('dynamic', { limit: 5, global: { limit: 2 } });
    await waitFor('both nodes to run the queue', () => b.queues().some((queue) => queue.queue === 'dynamic'));
    expect(b.queues()).toEqual([
      { queue: 'dynamic', limit: 5, running: 0, paused: false, flow: { global: 2 } },
    ]);
    const first = await a.insertAll(
      Array.from({ length: 20 }, () => newJob(FlowWorker, { ms: 30 }, { queue: 'dynamic' })),
    );
    await allCompleted(
      a,
      first.map((job) => job.id),
    );
    expect(await overlapSince('dynamic', 0)).toBe(2);
    // Each node runs the started queue: with the other paused there, it takes all the work.
    // (Both running, which takes which jobs of a global limit is a race that one may win throughout.)
    for (const [runner, paused] of [
      [a, b],
      [b, a],
    ] as const) {
      await a.pauseQueue('dynamic', { node: paused.node });
      await waitFor(`the queue paused on ${paused.node}`, () => paused.queues()[0]?.paused === true);
      const mark = await lastRun();
      const jobs = await a.insertAll(
        Array.from({ length: 3 }, () => newJob(FlowWorker, { ms: 5 }, { queue: 'dynamic' })),
      );
      await allCompleted(
        a,
        jobs.map((job) => job.id),
      );
      const ranOn = await withSql(
        url,
        (sql) => sql<{ node: string }[]>`SELECT DISTINCT node FROM public.flow_runs WHERE id > ${mark}`,
      );
      expect(ranOn.map((row) => row.node)).toEqual([runner.node]);
      await a.resumeQueue('dynamic', { node: paused.node });
      await waitFor(`the queue resumed on ${paused.node}`, () => paused.queues()[0]?.paused === false);
    }

    await a.updateQueue('dynamic', { global: { limit: 1 } });
    await waitFor('b to apply the new limit', () => b.queues()[0]?.flow.global === 1);
    const mark = await lastRun();
    const second = await a.insertAll(
      Array.from({ length: 10 }, () => newJob(FlowWorker, { ms: 20 }, { queue: 'dynamic' })),
    );
    await allCompleted(
      a,
      second.map((job) => job.id),
    );
    expect(await overlapSince('dynamic', mark)).toBe(1);

    await a.stopQueue('dynamic');
    await waitFor('b to stop the queue', () => b.queues().length === 0);
    const later = await node('c', { dynamic: 5 });
    expect(later.queues()).toEqual([]);
    const waiting = await a.insert(newJob(FlowWorker, {}, { queue: 'dynamic' }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await a.getJob(waiting.id))?.state).toBe('available');

    await b.startQueue('dynamic', 3);
    await allCompleted(a, [waiting.id]);
    // The job may have run on b before the start reached c: c converges on the stored queue.
    await waitFor('c to start the queue', () => later.queues().length === 1);
    expect(later.queues()).toEqual([{ queue: 'dynamic', limit: 3, running: 0, paused: false, flow: {} }]);
  });

  it('keeps limits changed at run time for nodes started later, over their own', async () => {
    const a = await node('d', { stored: 4 });
    await a.updateQueue('stored', { global: { limit: 3 }, rateLimit: { allowed: 100, period: 60 } });
    await a.updateQueue('stored', { rateLimit: null, limit: 2 });
    const later = await node('e', { stored: 4 });
    // (It runs the queue started at run time by the test before too: that is stored as well.)
    expect(later.queues().filter((queue) => queue.queue === 'stored')).toEqual([
      { queue: 'stored', limit: 2, running: 0, paused: false, flow: { global: 3 } },
    ]);
  });

  it('refuses bad limits, saying where', async () => {
    const a = await node('f');
    await expect(a.updateQueue('x', { global: { limit: 0 } })).rejects.toThrow(KobanValidationError);
    await expect(a.updateQueue('x', { global: { limit: 0 } })).rejects.toThrow(
      /updateQueue\("x"\)\.global\.limit: expected an integer from 1 to 1000000, got 0/,
    );
    await expect(
      a.startQueue('x', { limit: 2, partition: { by: 'tenant' as never, limit: 2 } }),
    ).rejects.toThrow(
      /startQueue\("x"\)\.partition\.by: expected 'worker', \{ args: \[\.\.\.\] \} or \{ meta: \[\.\.\.\] \}/,
    );
    await expect(a.startQueue('x', { partition: { by: 'worker', limit: 2, ordered: true } })).rejects.toThrow(
      /limit must be 1, got 2/,
    );
    await expect(a.startQueue('x', { rateLimit: { allowed: 5, period: -1 } })).rejects.toThrow(
      /rateLimit\.period: expected a positive number of seconds/,
    );
  });
});

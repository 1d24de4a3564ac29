import { beforeAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, newJob } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitForCompleted } from './support/recording-database.js';
import { nodeOf } from './support/workers.js';

// Two Koban instances in one process, on one database, each running `q` with 20 slots: the
// claim's FOR UPDATE SKIP LOCKED must hand every job to exactly one of them.

const runs = new Map<string, number>();
const runsByNode = new Map<string, number>();

class CountingWorker {
  async process(job: Job<{ n: number }>) {
    runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
    const node = nodeOf(job);
    runsByNode.set(node, (runsByNode.get(node) ?? 0) + 1);
    // Yield, so that both producers have jobs in flight at once.
    await new Promise((resolve) => setImmediate(resolve));
  }
}
defineWorker(CountingWorker, { queue: 'q' });

const total = 5000;
let url: string;
beforeAll(async () => {
  url = await freshDatabase();
});

describe('two producers on one queue', () => {
  it('run each of 5,000 jobs exactly once, and both do work', async () => {
    const config = { database: url, queues: { q: 20 }, workers: [CountingWorker], poolSize: 4 };
    const a = await startKoban({ ...config, node: 'node-a' });
    await startKoban({ ...config, node: 'node-b' });

    const inserted = await a.insertAll(
      Array.from({ length: total }, (_, n) => newJob(CountingWorker, { n })),
    );
    expect(inserted).toHaveLength(total);

    await waitForCompleted(url, total);

    // In the workers: every inserted job ran, once.
    expect(runs.size).toBe(total);
    const twice = [...runs].filter(([, count]) => count !== 1);
    expect(twice).toEqual([]);
    expect(new Set(runs.keys())).toEqual(new Set(inserted.map((job) => job.id)));
    expect(runsByNode.get('node-a') ?? 0).toBeGreaterThan(0);
    expect(runsByNode.get('node-b') ?? 0).toBeGreaterThan(0);
    expect((runsByNode.get('node-a') ?? 0) + (runsByNode.get('node-b') ?? 0)).toBe(total);

    // In the database: one attempt each, by one node each, and both nodes appear.
    const summary = await withSql(url, async (sql) => {
      const [row] = await sql<{ jobs: number; completed: number; single: number; nodes: string[] }[]>`
        SELECT count(*)::int AS jobs,
               count(*) FILTER (WHERE state = 'completed')::int AS completed,
               count(*) FILTER (WHERE attempt = 1 AND cardinality(attempted_by) = 1)::int AS single,
               (SELECT array_agg(DISTINCT n ORDER BY n) FROM koban.all_jobs, unnest(attempted_by) n) AS nodes
        FROM koban.all_jobs`;
      return row!;
    });
    expect(summary).toEqual({ jobs: total, completed: total, single: total, nodes: ['node-a', 'node-b'] });
  });
});

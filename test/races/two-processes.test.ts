import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newJob } from '../../index.js';
import { withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { spawnNode } from './support/processes.js';
import { recordingDatabase, waitForCompleted } from './support/recording-database.js';
import { closeRecorder, RecordRunWorker } from './support/workers.js';

// Two nodes in separate processes, each with its own pool, drain one queue. Each run is written
// to a side table with no unique constraint, so a job run twice would show as two rows.

const total = 5000;
let url: string;
beforeAll(async () => {
  url = await recordingDatabase();
});
afterAll(closeRecorder);

describe('two processes on one queue', () => {
  it('run each of 5,000 jobs exactly once, and both do work', async () => {
    const [a, b] = await Promise.all([
      spawnNode({ url, node: 'proc-a', queues: { q: 20 } }),
      spawnNode({ url, node: 'proc-b', queues: { q: 20 } }),
    ]);
    // This process only inserts: it runs no queue.
    const inserter = await startKoban({ database: url, workers: [RecordRunWorker], poolSize: 2 });
    await inserter.insertAll(Array.from({ length: total }, () => newJob(RecordRunWorker, {})));

    await waitForCompleted(url, total);
    await Promise.all([a.stop(), b.stop()]);

    const { runs, perNode, jobs } = await withSql(url, async (sql) => {
      const [runs] = await sql<{ count: number; distinct: number; secondAttempts: number }[]>`
        SELECT count(*)::int AS count, count(DISTINCT job_id)::int AS distinct,
               count(*) FILTER (WHERE attempt <> 1)::int AS "secondAttempts"
        FROM public.runs`;
      const perNode = await sql<{ node: string; count: number }[]>`
        SELECT node, count(*)::int AS count FROM public.runs GROUP BY node ORDER BY node`;
      const [jobs] = await sql<{ completed: number; onceByOne: number }[]>`
        SELECT count(*) FILTER (WHERE state = 'completed')::int AS completed,
               count(*) FILTER (WHERE attempt = 1 AND cardinality(attempted_by) = 1)::int AS "onceByOne"
        FROM koban.all_jobs`;
      return { runs: runs!, perNode, jobs: jobs! };
    });
    expect(runs).toEqual({ count: total, distinct: total, secondAttempts: 0 });
    expect(jobs).toEqual({ completed: total, onceByOne: total });
    expect(perNode.map((row) => row.node)).toEqual(['proc-a', 'proc-b']);
    expect(perNode.every((row) => row.count > 0)).toBe(true);
    // No fetch or ack failed in either process.
    expect(a.stderr + b.stderr).not.toMatch(/failed/);
  });
});

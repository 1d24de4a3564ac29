import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batch, newJob } from '../../index.js';
import { withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';
import { spawnNode } from './support/processes.js';
import { recordingDatabase } from './support/recording-database.js';
import { BatchRecorderWorker, closeRecorder, RecordRunWorker } from './support/workers.js';

// Two nodes in separate processes work one 5,000-job batch. The batch's counters move under its
// row lock in each ack's transaction, and each callback job holds a unique key, so each
// callback is inserted and run once, however the last acks of the two nodes interleave.

const total = 5000;
let url: string;

beforeAll(async () => {
  url = await recordingDatabase();
});
afterAll(closeRecorder);

describe('one batch worked by two processes', () => {
  it('fires each callback exactly once', async () => {
    const [a, b] = await Promise.all([
      spawnNode({ url, node: 'batch-a', queues: { q: 20 } }),
      spawnNode({ url, node: 'batch-b', queues: { q: 20 } }),
    ]);
    const inserter = await startKoban({
      database: url,
      workers: [RecordRunWorker, BatchRecorderWorker],
      poolSize: 2,
    });
    const [first] = await inserter.insertAll(
      batch(
        Array.from({ length: total }, () => newJob(RecordRunWorker, {})),
        { callbackWorker: BatchRecorderWorker },
      ),
    );
    const batchId = first!.batchId!;
    await waitFor(
      'the batch and its callbacks to finish',
      async () => {
        const status = await inserter.batchStatus(batchId);
        const callbacks = await inserter.listJobs({
          batchId,
          worker: 'BatchRecorderWorker',
          state: 'completed',
        });
        return status?.finished && callbacks.length === 2;
      },
      60_000,
    );
    // A late duplicate would need a moment more to show: give it one.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await Promise.all([a.stop(), b.stop()]);

    const counted = await withSql(url, async (sql) => {
      const callbacks = await sql<{ callback: string; jobs: number; runs: number }[]>`
        SELECT j.batch_callback AS callback, count(DISTINCT j.id)::int AS jobs, count(r.id)::int AS runs
        FROM koban.all_jobs j LEFT JOIN public.runs r ON r.job_id = j.id
        WHERE j.batch_id = ${batchId} AND j.batch_callback IS NOT NULL
        GROUP BY j.batch_callback ORDER BY j.batch_callback`;
      const [jobs] = await sql<{ completed: number; nodes: number }[]>`
        SELECT count(*) FILTER (WHERE state = 'completed')::int AS completed,
          count(DISTINCT attempted_by[1])::int AS nodes
        FROM koban.all_jobs WHERE batch_id = ${batchId} AND batch_callback IS NULL`;
      const [batchRow] = await sql<{ total: number; completed: number; attempted: number; fired: number }[]>`
        SELECT total, completed, attempted, fired FROM koban.batches WHERE id = ${batchId}`;
      return { callbacks, jobs: jobs!, batch: batchRow! };
    });
    expect(counted.callbacks).toEqual([
      { callback: 'attempted', jobs: 1, runs: 1 },
      { callback: 'completed', jobs: 1, runs: 1 },
    ]);
    expect(counted.jobs).toEqual({ completed: total, nodes: 2 });
    expect(counted.batch).toMatchObject({ total, completed: total, attempted: total });
    expect(a.stderr + b.stderr).not.toMatch(/failed/);
  });
});

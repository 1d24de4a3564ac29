import { beforeEach, describe, expect, it } from 'vitest';
import { defineWorker, type Job, KobanValidationError, newJob } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';
import { nodeOf } from './support/workers.js';

// Pause, resume and scale are stored and broadcast: one node's call reaches every node running
// the queue, and a node that starts later picks up the stored state.

/** Holds every job until `release()`, so the test can count what runs at once. */
let release: () => void = () => {};
let gate = Promise.resolve();
function closeGate() {
  gate = new Promise((resolve) => {
    release = resolve;
  });
}
const ranOn: string[] = [];

class GatedWorker {
  async process(job: Job<Record<string, never>>) {
    ranOn.push(nodeOf(job));
    await gate;
  }
}
defineWorker(GatedWorker, { queue: 'gated' });

let url: string;
beforeEach(async () => {
  url = await freshDatabase();
});

const countByState = (queue: string) =>
  withSql(url, async (sql) => {
    const rows = await sql<{ state: string; count: number }[]>`
      SELECT state, count(*)::int AS count FROM koban.all_jobs WHERE queue = ${queue} GROUP BY state`;
    return Object.fromEntries(rows.map((row) => [row.state, row.count]));
  });

const settle = () => new Promise((resolve) => setTimeout(resolve, 1000));

describe('queue control across nodes', () => {
  it('pausing on one node stops the others fetching; resuming runs the jobs; late nodes start paused', async () => {
    gate = Promise.resolve();
    ranOn.length = 0;
    const a = await startKoban({ database: url, node: 'a', queues: { gated: 5 } });
    const b = await startKoban({ database: url, node: 'b', queues: { gated: 5 } });

    await a.pauseQueue('gated');
    // The pause reaches every node (the caller included) through a NOTIFY.
    await waitFor('a and b to hear of the pause', () => a.queues()[0]?.paused && b.queues()[0]?.paused);

    await a.insertAll(Array.from({ length: 20 }, () => newJob(GatedWorker, {})));
    // Several poll intervals (200 ms) and an insert NOTIFY later, nothing was fetched.
    await settle();
    expect(await countByState('gated')).toEqual({ available: 20 });

    const c = await startKoban({ database: url, node: 'c', queues: { gated: 5 } });
    expect(c.queues()).toMatchObject([{ queue: 'gated', limit: 5, running: 0, paused: true }]);
    await settle();
    expect(await countByState('gated')).toEqual({ available: 20 });

    // Resumed from the late node, on every node.
    await c.resumeQueue('gated');
    await waitFor('all 20 jobs to complete', async () => (await countByState('gated')).completed === 20);
    await waitFor('every node to hear of the resume', () =>
      [a, b, c].every((koban) => koban.queues()[0]?.paused === false),
    );
    expect(ranOn.length).toBe(20);
  });

  it('scaling on one node changes the limit of a running producer on another', async () => {
    closeGate();
    ranOn.length = 0;
    const runner = await startKoban({ database: url, node: 'runner', queues: { gated: 2 } });
    const admin = await startKoban({ database: url, node: 'admin' });
    await admin.insertAll(Array.from({ length: 10 }, () => newJob(GatedWorker, {})));

    await waitFor('2 jobs running', async () => (await countByState('gated')).executing === 2);
    await settle();
    expect(await countByState('gated')).toEqual({ executing: 2, available: 8 });

    await admin.scaleQueue('gated', 6);
    await waitFor('the runner to take the new limit', () => runner.queues()[0]?.limit === 6);
    // Scaling up wakes the producer: it fills the new slots without waiting for a job to finish.
    await waitFor('6 jobs running', async () => (await countByState('gated')).executing === 6);
    expect(runner.queues()[0]).toMatchObject({ limit: 6, running: 6 });
    await settle();
    expect(await countByState('gated')).toEqual({ executing: 6, available: 4 });

    // A node started later takes the stored limit over its own.
    await admin.scaleQueue('gated', 3);
    await waitFor('the runner to take the lower limit', () => runner.queues()[0]?.limit === 3);
    const late = await startKoban({ database: url, node: 'late', queues: { gated: 50 } });
    expect(late.queues()[0]).toMatchObject({ limit: 3 });

    release();
    await waitFor('all 10 jobs to complete', async () => (await countByState('gated')).completed === 10);
    expect(ranOn.filter((node) => node === 'runner').length).toBeGreaterThanOrEqual(6);
    await expect(admin.scaleQueue('gated', 0)).rejects.toThrow(KobanValidationError);
  });
});

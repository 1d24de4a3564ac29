import { beforeEach, describe, expect, it } from 'vitest';
import { defineWorker, type Job, KobanValidationError, newJob } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';
import { nodeOf } from './support/workers.js';

// Pausing a queue on one node only: that node claims none of its jobs while the others go on,
// whatever the cluster-wide pause and resume do meanwhile, until it is resumed there.

const ranOn: string[] = [];

class LocalWorker {
  async process(job: Job<Record<string, never>>) {
    ranOn.push(nodeOf(job));
    // Long enough that every node with a free slot gets some of a batch.
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
}
defineWorker(LocalWorker, { queue: 'local' });

let url: string;
beforeEach(async () => {
  url = await freshDatabase();
  ranOn.length = 0;
});

const unfinished = () =>
  withSql(url, async (sql) => {
    const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM koban.jobs WHERE queue = 'local'`;
    return row!.n;
  });

async function runBatch(insert: (count: number) => Promise<unknown>, count: number) {
  ranOn.length = 0;
  await insert(count);
  await waitFor('the batch to finish', async () => (await unfinished()) === 0, 60_000);
  return new Set(ranOn);
}

describe('pausing a queue on one node', () => {
  it('stops that node only, survives a cluster-wide pause and resume, and is lifted there alone', async () => {
    const options = { database: url, queues: { local: 2 }, heartbeatInterval: 300 };
    const a = await startKoban({ ...options, node: 'a' });
    const b = await startKoban({ ...options, node: 'b' });
    const c = await startKoban({ ...options, node: 'c' });
    const insert = (count: number) =>
      a.insertAll(Array.from({ length: count }, () => newJob(LocalWorker, {})));

    // Asked from another node: the signal reaches b.
    await a.pauseQueue('local', { node: 'b' });
    await waitFor('b to hear of its pause', () => b.queues()[0]?.pausedHere);
    expect(a.queues()[0]).toMatchObject({ paused: false });
    expect(a.queues()[0]?.pausedHere).toBeUndefined();
    expect(b.queues()[0]).toMatchObject({ paused: true, pausedHere: true });
    expect(await runBatch(insert, 40)).toEqual(new Set(['a', 'c']));

    // A pause and resume of the whole cluster leave b's own pause in place.
    await c.pauseQueue('local');
    await waitFor('every node to pause', () => [a, b, c].every((node) => node.queues()[0]?.paused));
    await c.resumeQueue('local');
    await waitFor('a and c to resume', () => !a.queues()[0]?.paused && !c.queues()[0]?.paused);
    expect(b.queues()[0]).toMatchObject({ paused: true, pausedHere: true });
    expect(await runBatch(insert, 40)).toEqual(new Set(['a', 'c']));

    // Now only b runs: a and c pause themselves, b is resumed from c.
    await a.pauseQueue('local', { node: a.node });
    await c.pauseQueue('local', { node: 'c' });
    await c.resumeQueue('local', { node: 'b' });
    await waitFor('b to resume', () => !b.queues()[0]?.paused);
    expect(await runBatch(insert, 20)).toEqual(new Set(['b']));

    // Nothing was stored: a node that starts now runs the queue.
    const d = await startKoban({ ...options, node: 'd' });
    expect(d.queues()[0]).toMatchObject({ paused: false });
  }, 120_000);

  it('rejects a bad node option', async () => {
    const a = await startKoban({ database: url, queues: { local: 1 }, node: 'a' });
    await expect(a.pauseQueue('local', { node: '' })).rejects.toThrow(KobanValidationError);
    await expect(a.resumeQueue('local', { node: 3 as never })).rejects.toThrow(
      "resumeQueue: node: expected a node's name, got 3",
    );
  });
});

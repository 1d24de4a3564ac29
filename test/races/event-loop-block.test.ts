import { afterEach, describe, expect, it } from 'vitest';
import { newJob } from '../../index.js';
import { minimumRescueAfter } from '../../runtime/config.js';
import { withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import type { NodeProcess } from '../support/node-process.js';
import { waitFor } from '../support/wait.js';
import { spawnNode } from './support/processes.js';
import { recordingDatabase, waitForCompleted } from './support/recording-database.js';
import { closeRecorder, type HangArgs, HangWorker } from './support/workers.js';

// A node whose event loop a synchronous stretch of work blocks sends no heartbeat meanwhile. At
// the smallest rescueAfter Koban allows, a block of up to blockTolerance costs it no job; a
// longer one is logged, and the node drops the jobs the leader took from it before claiming.

const heartbeatInterval = 200;

afterEach(closeRecorder);

function timers(blockTolerance: number) {
  return {
    heartbeatInterval,
    blockTolerance,
    rescueAfter: minimumRescueAfter(heartbeatInterval, blockTolerance),
  };
}

function runsPerJob(url: string): Promise<{ runs: number; finished: number }[]> {
  return withSql(
    url,
    (sql) => sql<{ runs: number; finished: number }[]>`
      SELECT count(*)::int AS runs, count(finished_at)::int AS finished
      FROM public.runs GROUP BY job_id ORDER BY job_id`,
  );
}

/**
 * Ten jobs running on a child node named `blocked`, and a second node, in this process, that runs
 * their queue too (a job the leader rescued would run there again); then the child's event loop
 * is blocked for `blockMs`.
 */
async function blockWhileRunning(
  settings: ReturnType<typeof timers>,
  args: HangArgs,
  blockMs: number,
): Promise<{ url: string; blocked: NodeProcess }> {
  const url = await recordingDatabase();
  const inserter = await startKoban({ database: url, workers: [HangWorker], ...settings });
  await inserter.insertAll(Array.from({ length: 10 }, () => newJob(HangWorker, args)));
  await inserter.stop();
  const blocked = await spawnNode({
    url,
    node: 'blocked',
    queues: { slow: 10 },
    blockOnSignalMs: blockMs,
    ...settings,
  });
  await waitFor(
    'all ten jobs to start on the blocked node',
    async () => (await runsPerJob(url)).length === 10,
  );
  const other = await startKoban({
    database: url,
    node: 'other',
    queues: { slow: 10 },
    workers: [HangWorker],
    ...settings,
  });
  blocked.child.kill('SIGUSR2');
  await waitFor('the block to end', () => blocked.stdout.includes('"unblocked"'), 30_000);
  await waitForCompleted(url, 10);
  // The other node took the lead when the blocked node's lease lapsed.
  expect(other.isLeader).toBe(true);
  return { url, blocked };
}

describe('a node whose event loop is blocked', () => {
  it('for blockTolerance keeps its jobs at the smallest rescueAfter: none runs twice, and it warns', async () => {
    const blockTolerance = 5000;
    const { url, blocked } = await blockWhileRunning(
      timers(blockTolerance),
      { hangOn: ['blocked'], hangMs: 1000 },
      blockTolerance,
    );
    expect(await runsPerJob(url)).toEqual(Array(10).fill({ runs: 1, finished: 1 }));
    expect(blocked.stdout).toMatch(
      /warn: node blocked: synchronous work blocked the event loop for 5(\.\d)? s, past blockTolerance \(5000 ms\)/,
    );
    await blocked.stop();
  });

  it('past rescueAfter aborts the jobs the leader took from it and warns', async () => {
    const settings = timers(500);
    // Three times rescueAfter: the leader rescued the jobs and forgot the silent node.
    const { url, blocked } = await blockWhileRunning(
      settings,
      { hangOn: ['blocked'], untilAttempt: 1 },
      3 * settings.rescueAfter,
    );
    // Each job ran again on the other node; its first run, on the blocked node, is aborted there.
    await waitFor('the blocked node to run nothing', () =>
      withSql(url, async (sql) => {
        const [row] = await sql<{ running: number }[]>`
          SELECT (report->'queues'->0->>'running')::int AS running FROM koban.nodes WHERE name = 'blocked'`;
        return row?.running === 0;
      }),
    );
    expect(await runsPerJob(url)).toEqual(Array(10).fill({ runs: 2, finished: 1 }));
    expect(blocked.stdout).toMatch(/blocked the event loop for \d+(\.\d)? s, past rescueAfter \(1100 ms\)/);
    await blocked.stop();
  });
});

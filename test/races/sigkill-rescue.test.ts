import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newJob } from '../../index.js';
import { withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';
import { spawnNode } from './support/processes.js';
import { recordingDatabase } from './support/recording-database.js';
import { closeRecorder, HangWorker } from './support/workers.js';

// A node killed with SIGKILL mid-job never writes an outcome: its jobs stay `executing` under its
// name until its heartbeat lapses, then the leader's lifeline rescues them.

// Short enough for a quick test, long enough that a loaded machine never misses a live node's beat.
const timers = { heartbeatInterval: 200, rescueAfter: 2000, blockTolerance: 1000 };
let url: string;
beforeAll(async () => {
  url = await recordingDatabase();
});
afterAll(closeRecorder);

describe('a node killed mid-job', () => {
  it('has its jobs rescued and run again by a survivor, or discarded when no attempt is left', async () => {
    const inserter = await startKoban({ database: url, workers: [HangWorker], ...timers });
    const again = await inserter.insert(newJob(HangWorker, { hangOn: ['doomed'] }));
    const last = await inserter.insert(newJob(HangWorker, { hangOn: ['doomed'] }), { maxAttempts: 1 });
    await inserter.stop();

    const doomed = await spawnNode({ url, node: 'doomed', queues: { slow: 5 }, ...timers });
    await waitFor(
      'both jobs to start on the doomed node',
      () =>
        withSql(url, async (sql) => {
          const [row] = await sql<{ started: number }[]>`
            SELECT count(*)::int AS started FROM public.runs WHERE node = 'doomed'`;
          return row!.started === 2;
        }),
      60_000,
    );
    // The survivor runs the queue too, while the doomed node still holds both jobs.
    const survivor = await startKoban({
      database: url,
      node: 'survivor',
      queues: { slow: 5 },
      workers: [HangWorker],
      ...timers,
    });
    expect((await survivor.getJob(again.id))?.state).toBe('executing');

    await doomed.kill();
    expect(await doomed.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const lastBeat = await withSql(url, async (sql) => {
      const [row] = await sql<
        { at: Date }[]
      >`SELECT heartbeat_at AS at FROM koban.nodes WHERE name = 'doomed'`;
      return row!.at;
    });

    const rescued = await waitFor(
      'the rescued job to complete on the survivor',
      async () => {
        const job = await survivor.getJob(again.id);
        return job?.state === 'completed' ? job : null;
      },
      30_000,
    );
    expect(rescued.attempt).toBe(2);
    expect(rescued.attemptedBy).toEqual(['doomed', 'survivor']);
    expect(rescued.errors).toHaveLength(1);
    expect(rescued.errors[0]).toMatchObject({ attempt: 1 });
    expect(rescued.errors[0]!.error).toMatch(/^rescued: node doomed stopped heartbeating/);
    // Rescued only once the dead node's heartbeat had lapsed (both times from the database clock).
    expect(Date.parse(rescued.errors[0]!.at)).toBeGreaterThanOrEqual(lastBeat.getTime() + timers.rescueAfter);

    const discarded = await waitFor('the job with no attempt left to be discarded', async () => {
      const job = await survivor.getJob(last.id);
      return job?.state === 'discarded' ? job : null;
    });
    expect(discarded.attempt).toBe(1);
    expect(discarded.attemptedBy).toEqual(['doomed']);
    expect(discarded.discardedAt).toBeInstanceOf(Date);
    expect(discarded.errors.map((error) => error.error)).toEqual([
      expect.stringMatching(/^rescued: node doomed/),
    ]);

    const runs = await withSql(
      url,
      (sql) => sql<{ job_id: string; node: string; attempt: number; finished: boolean }[]>`
        SELECT job_id::text, node, attempt, finished_at IS NOT NULL AS finished
        FROM public.runs WHERE job_id IN (${again.id}, ${last.id}) ORDER BY job_id, attempt`,
    );
    // The killed attempts never finished; only the rescued job ran again, once.
    expect(runs).toEqual([
      { job_id: again.id, node: 'doomed', attempt: 1, finished: false },
      { job_id: again.id, node: 'survivor', attempt: 2, finished: true },
      { job_id: last.id, node: 'doomed', attempt: 1, finished: false },
    ]);
  });

  it('has its jobs rescued when it comes back under the same name', async () => {
    // A fixed node name (a container's host name, say) survives a crash and restart. The new
    // process runs nothing of the old one's, so those jobs must not stay executing forever.
    const inserter = await startKoban({ database: url, workers: [HangWorker], ...timers });
    const job = await inserter.insert(newJob(HangWorker, { hangOn: ['phoenix'], untilAttempt: 1 }));
    const crashed = await spawnNode({ url, node: 'phoenix', queues: { slow: 1 }, ...timers });
    await waitFor('the job to start', async () => (await runCount(job.id)) === 1, 60_000);
    await crashed.kill();

    const reborn = await startKoban({ database: url, node: 'phoenix', queues: { slow: 1 }, ...timers });
    const done = await waitFor(
      'the crashed attempt to be rescued and the job completed',
      async () => {
        const current = await reborn.getJob(job.id);
        return current?.state === 'completed' ? current : null;
      },
      5 * timers.rescueAfter,
    );
    expect(done).toMatchObject({ attempt: 2, attemptedBy: ['phoenix', 'phoenix'] });
    expect(done.errors.map((error) => error.error)).toEqual([expect.stringMatching(/^rescued/)]);
  });
});

function runCount(jobId: string): Promise<number> {
  return withSql(url, async (sql) => {
    const rows = await sql<{ runs: number }[]>`
      SELECT count(*)::int AS runs FROM public.runs WHERE job_id = ${jobId}`;
    return rows[0]!.runs;
  });
}

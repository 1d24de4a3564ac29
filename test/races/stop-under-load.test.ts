import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newJob } from '../../index.js';
import { withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';
import { recordingDatabase } from './support/recording-database.js';
import { closeRecorder, HangWorker } from './support/workers.js';

// stop() stops fetching, waits up to shutdownGrace for running jobs and writes their outcomes,
// then aborts what still runs. A job that ignores the abort stays executing under the stopped
// node's name until that node's heartbeat lapses: never rescued early, so never run twice at once.

const timers = { heartbeatInterval: 200, rescueAfter: 3000, blockTolerance: 2000 };
let url: string;
beforeEach(async () => {
  url = await recordingDatabase();
});
afterEach(closeRecorder);

interface Run {
  node: string;
  attempt: number;
  started_at: Date;
  finished_at: Date | null;
}

async function runsOf(jobId?: string): Promise<Run[]> {
  return withSql(
    url,
    (sql) => sql<Run[]>`
      SELECT node, attempt, started_at, finished_at FROM public.runs
      WHERE ${jobId ?? null}::bigint IS NULL OR job_id = ${jobId ?? null}::bigint
      ORDER BY started_at`,
  );
}

const nodeRow = (name: string) =>
  withSql(url, async (sql) => {
    const [row] = await sql<{ at: Date }[]>`SELECT heartbeat_at AS at FROM koban.nodes WHERE name = ${name}`;
    return row?.at;
  });

describe('stop() under load', () => {
  it('lets running jobs finish within the grace, writes their outcomes, and claims nothing more', async () => {
    const koban = await startKoban({
      database: url,
      node: 'stopper',
      queues: { slow: 8 },
      shutdownGrace: 20_000,
    });
    const slow = { hangOn: ['stopper'], hangMs: 1500, ignoreAbort: true };
    await koban.insertAll(Array.from({ length: 40 }, () => newJob(HangWorker, slow)));
    await waitFor('a full queue of running jobs', () => koban.queues()[0]?.running === 8, 30_000);
    const running = await koban.listJobs({ state: 'executing' });
    expect(running).toHaveLength(8);

    await koban.stop();

    const jobs = await withSql(
      url,
      (sql) => sql<{ id: string; state: string; attempt: number }[]>`
        SELECT id::text, state, attempt FROM koban.all_jobs ORDER BY id`,
    );
    // The running jobs finished and were acknowledged before stop() resolved; none was claimed after.
    const completed = jobs.filter((job) => job.state === 'completed');
    expect(new Set(completed.map((job) => job.id))).toEqual(new Set(running.map((job) => job.id)));
    expect(completed.every((job) => job.attempt === 1)).toBe(true);
    expect(jobs.filter((job) => job.state === 'available' && job.attempt === 0)).toHaveLength(32);
    const runs = await runsOf();
    expect(runs).toHaveLength(8);
    expect(runs.every((run) => run.finished_at !== null)).toBe(true);
    // A clean stop removes the node at once, so nothing waits for it to lapse.
    expect(await nodeRow('stopper')).toBeUndefined();
  });

  it('puts a job that honours the abort back in the queue, attempt refunded, for another node', async () => {
    const polite = await startKoban({
      database: url,
      node: 'polite',
      queues: { slow: 1 },
      shutdownGrace: 100,
    });
    const job = await polite.insert(newJob(HangWorker, { hangOn: ['polite'] }));
    await waitFor('the job to start', async () => (await runsOf(job.id)).length === 1);

    await polite.stop();

    const back = await withSql(url, async (sql) => {
      const [row] = await sql`SELECT state, attempt, errors FROM koban.all_jobs WHERE id = ${job.id}`;
      return row;
    });
    expect(back).toMatchObject({ attempt: 0, errors: [] });
    expect(['scheduled', 'available']).toContain(back!.state);
    expect(await nodeRow('polite')).toBeUndefined();

    const other = await startKoban({ database: url, node: 'other', queues: { slow: 1 } });
    const done = await waitFor('the job to complete on the other node', async () => {
      const current = await other.getJob(job.id);
      return current?.state === 'completed' ? current : null;
    });
    expect(done).toMatchObject({ attempt: 1, attemptedBy: ['polite', 'other'], errors: [] });
  });

  it('leaves a job that ignores the abort executing until the node lapses, then rescues it', async () => {
    const first = await startKoban({
      database: url,
      node: 'first',
      queues: { slow: 2 },
      shutdownGrace: 300,
      ...timers,
    });
    // Runs 2.5 s whatever its signal says: past the grace and the abort, over before the node lapses.
    const job = await first.insert(
      newJob(HangWorker, { hangOn: ['first'], hangMs: 2500, ignoreAbort: true }),
    );
    await waitFor('the job to start on the first node', async () => (await runsOf(job.id)).length === 1);
    const second = await startKoban({ database: url, node: 'second', queues: { slow: 2 }, ...timers });

    await first.stop();
    expect(await second.getJob(job.id)).toMatchObject({
      state: 'executing',
      attempt: 1,
      attemptedBy: ['first'],
    });
    const lastBeat = await nodeRow('first');
    expect(lastBeat).toBeInstanceOf(Date);

    const done = await waitFor(
      'the job to be rescued and completed by the second node',
      async () => {
        const current = await second.getJob(job.id);
        return current?.state === 'completed' ? current : null;
      },
      30_000,
    );
    expect(done.attempt).toBe(2);
    expect(done.attemptedBy).toEqual(['first', 'second']);
    expect(done.errors.map((error) => error.error)).toEqual([expect.stringMatching(/^rescued: node first/)]);

    const runs = await waitFor('both runs to have finished', async () => {
      const runs = await runsOf(job.id);
      return runs.length === 2 && runs.every((run) => run.finished_at) ? runs : null;
    });
    const [one, two] = runs;
    expect([one!.node, two!.node]).toEqual(['first', 'second']);
    // Not picked up before the stopped node's heartbeat had lapsed...
    expect(two!.started_at.getTime()).toBeGreaterThanOrEqual(lastBeat!.getTime() + timers.rescueAfter);
    // ...and so the two runs never overlapped.
    expect(two!.started_at.getTime()).toBeGreaterThanOrEqual(one!.finished_at!.getTime());
  });

  it('drops quietly the outcome of a job that finishes after stop()', async () => {
    const koban = await startKoban({ database: url, node: 'late', queues: { slow: 1 }, shutdownGrace: 100 });
    const job = await koban.insert(newJob(HangWorker, { hangOn: ['late'], hangMs: 2000, ignoreAbort: true }));
    await waitFor('the job to start', async () => (await runsOf(job.id)).length === 1);
    const errors: string[] = [];
    koban.on('error', ({ source, error }) => errors.push(`${source}: ${(error as Error).message}`));
    await koban.stop();
    expect((await runsOf(job.id))[0]?.finished_at).toBeNull();

    await waitFor('the late run to finish', async () => (await runsOf(job.id))[0]?.finished_at);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // The node's database is closed and the job is left to the lifeline: retrying the write once a
    // second for as long as the process lives only floods the log with "ack failed".
    expect(errors).toEqual([]);
    const left = await withSql(url, (sql) => sql`SELECT state FROM koban.all_jobs WHERE id = ${job.id}`);
    expect(left).toEqual([{ state: 'executing' }]);
  });
});

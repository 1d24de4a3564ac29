import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, Koban, newJob } from '../../index.js';
import { kobanDashboard } from '../../web/index.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';

// The operator's client on the PGlite instance an application runs Koban on: the same reads,
// search and bulk actions as on the server, through one shared in-process database.

class LiteMailer {
  async process(job: Job<{ to: string; fail?: boolean }>) {
    if (job.args.fail) throw new Error('mailbox full');
  }
}
defineWorker(LiteMailer, { queue: 'lite-mailers', maxAttempts: 1 });

class LiteReport {
  async process(_job: Job<{ day: string }>) {}
}
defineWorker(LiteReport, { queue: 'lite-reports' });

const pglite = new PGlite();
afterAll(() => pglite.close());

describe('Koban.connect on PGlite', { timeout: 120_000 }, () => {
  it('reads the queues and nodes, searches, and cancels a whole filter, leaving the instance open', async () => {
    const node = await startKoban({
      database: pglite,
      workers: [LiteMailer, LiteReport],
      queues: { 'lite-mailers': 2 },
    });
    await node.insertAll([
      newJob(LiteMailer, { to: 'ann@example.com' }),
      newJob(LiteMailer, { to: 'bob@example.com', fail: true }),
      ...Array.from({ length: 5 }, (_, n) => newJob(LiteReport, { day: `2026-12-0${n + 1}` })),
    ]);
    await waitFor(
      'the mail to be sent',
      async () =>
        (await node.listJobs({ queue: 'lite-mailers', state: ['completed', 'discarded'] })).length === 2,
    );
    const ops = await Koban.connect({ database: pglite });
    const queues = await ops.queues();
    expect(queues.find((queue) => queue.name === 'lite-mailers')).toMatchObject({
      counts: { completed: 1, discarded: 1 },
      nodes: [{ node: node.node, limit: 2 }],
    });
    expect(queues.find((queue) => queue.name === 'lite-reports')).toMatchObject({
      counts: { available: 5 },
      nodes: [],
    });
    expect((await ops.nodes()).leader).toBe(node.node);

    const found = await ops.searchJobs({ args: 'bob@' });
    expect(found.jobs.map((job) => [job.args, job.state])).toEqual([
      [{ to: 'bob@example.com', fail: true }, 'discarded'],
    ]);
    expect(await ops.cancelJobs({ filter: { queue: 'lite-reports' } }, { dryRun: true })).toMatchObject({
      total: 5,
      changed: 0,
    });
    expect(
      await ops.cancelJobs({ filter: { queue: 'lite-reports' } }, { reason: 'moved', batchSize: 2 }),
    ).toMatchObject({ total: 5, changed: 5 });
    const [cancelled] = (await ops.searchJobs({ queue: 'lite-reports', state: 'cancelled' }, { limit: 1 }))
      .jobs;
    expect(cancelled!.errors.at(-1)!.error).toBe('cancelled: moved');

    // The dashboard reads through the same client.
    const dashboard = kobanDashboard({ ops, basePath: '' });
    const overview = (await (await dashboard.fetch(new Request('http://lite/api/overview'))).json()) as {
      leader: string;
    };
    expect(overview.leader).toBe(node.node);

    await ops.close();
    // Closing the operator's client leaves the application's instance, and its node, working.
    const [later] = await node.insertAll([newJob(LiteMailer, { to: 'cy@example.com' })]);
    await waitFor(
      'a job after the client closed',
      async () => (await node.getJob(later!.id))?.state === 'completed',
    );
  });
});

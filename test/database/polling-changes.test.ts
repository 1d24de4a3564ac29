import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, type Koban, type KobanConfig } from '../../index.js';
import { CronReport } from '../cron/workers.js';
import { adminUrl, freshDatabase } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';
import { type Bouncer, startPgbouncer } from './support/pgbouncer.js';

// A node behind PgBouncer in transaction mode without listenUrl hears no NOTIFY: it reads the
// run-time changes made on other nodes back from the database every pollInterval. Its heartbeat
// (which also converges queue states) and its cron net are set far apart here, so only the
// poll can bring the changes in time.

class PolledWorker {
  async process(_job: Job<{ n: number }>) {}
}
defineWorker(PolledWorker, { queue: 'polled' });

let bouncer: Bouncer;
let pooled: string;

beforeAll(async () => {
  bouncer = await startPgbouncer(new URL(adminUrl()), { poolSize: 4 });
  pooled = bouncer.url(await freshDatabase());
});

afterAll(async () => {
  await bouncer?.stop();
});

const polling = (config: KobanConfig): Promise<Koban> =>
  startKoban({
    database: pooled,
    pooler: 'transaction',
    poolSize: 3,
    heartbeatInterval: 60_000,
    rescueAfter: 185_000,
    cronSyncInterval: 60_000,
    ...config,
  });

describe('a polling node (no LISTEN)', () => {
  it('takes the cluster-wide limits another node changed at run time, and their removal', async () => {
    const runner = await polling({ node: 'runner', queues: { polled: 5 } });
    const other = await polling({ node: 'other', queues: {} });
    const flowOf = () => runner.queues().find((queue) => queue.queue === 'polled')?.flow;
    expect(flowOf()).toEqual({});
    await other.updateQueue('polled', { global: { limit: 2 }, rateLimit: { allowed: 10, period: 60 } });
    await waitFor('the runner to take the new limits', () => flowOf()?.global === 2, 30_000);
    expect(flowOf()).toEqual({ global: 2, rateLimit: { allowed: 10, periodMs: 60_000 } });
    await other.updateQueue('polled', { global: null });
    await waitFor('the runner to drop the global limit', () => flowOf()?.global === undefined, 30_000);
    expect(flowOf()).toEqual({ rateLimit: { allowed: 10, periodMs: 60_000 } });
  });

  it('runs a stored cron entry another node inserted at run time', async () => {
    const runner = await polling({ node: 'cron-runner', queues: {} });
    const other = await polling({ node: 'cron-other', queues: {} });
    await other.cron.insert({
      name: 'polled-every-second',
      expression: '* * * * * *',
      worker: CronReport,
      args: { kind: 'daily' },
    });
    // From here on, only the runner can insert the entry's ticks.
    await other.stop();
    const stoppedAt = Date.now();
    await waitFor(
      'a tick the runner inserted',
      async () =>
        (await runner.listJobs({ worker: 'CronReport', limit: 100 })).some(
          (job) =>
            job.meta.cron === 'polled-every-second' &&
            Date.parse(job.meta.cronTick as string) > stoppedAt + 1000,
        ),
      30_000,
    );
  });
});

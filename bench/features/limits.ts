// What cluster-wide limits cost against a plain queue, one measurement per process: a global
// limit of 1,000, and 100 partitions of limit 10 (the jobs spread over 100 tenants), each timed
// from the start of a node until the last job ran, everything inserted first.
// Usage: node <build>/bench/features/limits.js <plain|global|partitions> <dbUrl> <n>
import type { Job, Koban as KobanType } from '../../index.js';
import { loadKoban, quietLogger as logger } from '../koban-dist.js';
import { childMain } from '../report.js';
import { queueLimit, timeWindow, withSql } from './window.js';

const { Koban, defineWorker, newJob } = await loadKoban();

let done: () => void = () => {};
let remaining = 0;

class TenantJob {
  async process(_job: Job<{ n: number; tenant: string }>) {
    if (--remaining === 0) done();
  }
}
defineWorker(TenantJob, { queue: 'bench' });

const scenarios: Record<string, { queue: Record<string, unknown>; settings: string }> = {
  plain: { queue: { limit: queueLimit }, settings: `plain queue, limit ${queueLimit}` },
  global: {
    queue: { limit: queueLimit, global: { limit: 1000 } },
    settings: `global limit 1000, local limit ${queueLimit}`,
  },
  partitions: {
    queue: { limit: queueLimit, partition: { by: { args: ['tenant'] }, limit: 10 } },
    settings: `100 partitions (args.tenant) of limit 10, local limit ${queueLimit}`,
  },
};

childMain(({ scenario, url, n }) =>
  withSql(url, async (sql) => {
    const chosen = scenarios[scenario];
    if (!chosen) throw new Error(`unknown scenario ${scenario}: one of ${Object.keys(scenarios).join(', ')}`);
    const inserter = await Koban.start({ database: url, workers: [TenantJob], logger, queues: {} });
    await inserter.insertAll(
      Array.from({ length: n }, (_, index) =>
        newJob(TenantJob, { n: index, tenant: `tenant-${index % 100}` }),
      ),
    );
    await inserter.stop();
    await sql`ANALYZE`;
    remaining = n;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    let koban: KobanType | undefined;
    const timed = await timeWindow(sql, n, async () => {
      koban = await Koban.start({
        database: url,
        workers: [TenantJob],
        logger,
        queues: { bench: chosen.queue },
      });
      await finished;
    });
    await koban?.stop();
    return { ...timed, jobs: n, settings: chosen.settings };
  }),
);

// pg-boss 12 with batch fetch, burst mode and LISTEN/NOTIFY (its defaults poll every 2 s for one job).
import { PgBoss } from 'pg-boss';
import { countRows, type Peer, run } from './harness.js';

const queue = 'bench';

async function start(url: string): Promise<PgBoss> {
  const boss = new PgBoss({ connectionString: url, useListenNotify: true });
  boss.on('error', (error) => process.stderr.write(`  [pgboss] error: ${error.message}\n`));
  await boss.start();
  return boss;
}

/** The option is the batch size: 500 for processing, 100 for latency. */
const batchSize = (option?: string) => Number(option ?? 500);
const work = (option?: string) => ({
  batchSize: batchSize(option),
  localConcurrency: 4,
  burstWhenBatchFull: true,
});

export const pgboss: Peer = {
  async producer(url) {
    const boss = await start(url);
    await boss.createQueue(queue, { notify: true });
    return {
      async insertMany(count) {
        await boss.insert(
          queue,
          Array.from({ length: count }, (_, n) => ({ data: { n } })),
        );
      },
      close: () => boss.stop({ graceful: false }),
    };
  },
  async consumer(url, started, option) {
    const boss = await start(url);
    await boss.createQueue(queue, { notify: true }); // a no-op when the producer made it
    await boss.work<{ n: number }>(queue, work(option), async (jobs) => {
      for (const job of jobs) started(job.data.n);
    });
    return {
      insertOne: async (n) => void (await boss.send(queue, { n })),
      stop: () => boss.stop({ graceful: false }),
    };
  },
  pending: countRows(`SELECT count(*) FROM pgboss.job WHERE state <> 'completed'`),
  settings: (option) =>
    `batchSize ${batchSize(option)}, localConcurrency 4, burstWhenBatchFull, useListenNotify + queue notify; insert: insert()`,
};

run(pgboss);

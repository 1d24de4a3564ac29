// pg-boss 12 with batch fetch, burst mode and LISTEN/NOTIFY (its defaults poll every 2 s for one job).
import { PgBoss } from 'pg-boss';
import { type Peer, run } from './harness.js';

const queue = 'bench';

async function start(url: string): Promise<PgBoss> {
  const boss = new PgBoss({ connectionString: url, useListenNotify: true });
  boss.on('error', (error) => process.stderr.write(`  [pgboss.ts] error: ${error.message}\n`));
  await boss.start();
  return boss;
}

/** Processing runs with batchSize 500; the latency run passes `100`. */
const work = (batchSize: number) => ({ batchSize, localConcurrency: 4, burstWhenBatchFull: true });

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
    await boss.work<{ n: number }>(queue, work(Number(option ?? 500)), async (jobs) => {
      for (const job of jobs) started(job.data.n);
    });
    return {
      insertOne: async (n) => void (await boss.send(queue, { n })),
      stop: () => boss.stop({ graceful: false }),
    };
  },
  pendingSql: `select count(*) from pgboss.job where state <> 'completed'`,
  settings: (option) =>
    `batchSize ${option ?? 500}, localConcurrency 4, burstWhenBatchFull, useListenNotify + queue notify; insert: insert()`,
};

run(pgboss);

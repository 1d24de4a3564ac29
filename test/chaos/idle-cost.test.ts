import { afterEach, describe, expect, it } from 'vitest';
import { defineWorker, type Job, Koban } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { quietLogger, waitFor } from '../support/wait.js';
import { sleep } from './support/cluster.js';

// Idle cost used to grow with the number of queues: a node with 10,000 idle queues used 1.43
// cores and made 9,965 transactions a second, a claim per queue per poll. The node now polls
// once for all its queues; only queues with available jobs claim.

class IdleWorker {
  async process(_job: Job) {}
}
defineWorker(IdleWorker, { queue: 'q0' });

const nodes: Koban[] = [];
afterEach(async () => {
  await Promise.allSettled(nodes.splice(0).map((koban) => koban.stop()));
});

/** Transactions per second committed in the node's database while it idles. */
async function idleTransactionsPerSecond(
  queueCount: number,
): Promise<{ rate: number; koban: Koban; url: string }> {
  const url = await freshDatabase();
  const queues = Object.fromEntries(Array.from({ length: queueCount }, (_, index) => [`q${index}`, 2]));
  const koban = await Koban.start({
    database: url,
    queues,
    workers: [IdleWorker],
    logger: quietLogger,
    pollInterval: 200,
  });
  nodes.push(koban);
  await sleep(6000); // the first claim of every queue, at start
  const committed = () =>
    withSql(url, async (sql) => {
      await sql`SELECT pg_stat_force_next_flush()`.catch(() => undefined);
      const [row] = await sql<{ n: string }[]>`
        SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()`;
      return Number(row!.n);
    });
  const before = await committed();
  await sleep(4000);
  await sleep(1000); // statistics reach pg_stat_database within a second
  const rate = ((await committed()) - before) / 5;
  return { rate, koban, url };
}

describe('an idle node', () => {
  it('costs the same number of transactions for 10 queues and 2,000', async () => {
    const few = await idleTransactionsPerSecond(10);
    await few.koban.stop();
    const many = await idleTransactionsPerSecond(2000);
    console.info(
      `[chaos] idle transactions/s: ${few.rate.toFixed(1)} with 10 queues, ${many.rate.toFixed(1)} with 2,000`,
    );
    // Before: about 10,000/s for 2,000 queues polled every 200 ms.
    expect(many.rate).toBeLessThan(few.rate * 2 + 10);
    // The poll still finds work whose NOTIFY never came: a job inserted by plain SQL runs.
    const [row] = await withSql(
      many.url,
      (sql) => sql<{ id: string }[]>`
        INSERT INTO koban.jobs (worker, queue, args) VALUES ('IdleWorker', 'q1999', '{}') RETURNING id::text`,
    );
    await waitFor(
      'the job found by the poll',
      async () => (await many.koban.getJob(row!.id))?.state === 'completed',
    );
  }, 60_000);
});

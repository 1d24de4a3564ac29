// BullMQ 6, on PostgreSQL (its `createPostgresBackend`, driver `pg`) and on Redis. The option is
// `<backend>:<concurrency>`: `postgres:50`, `redis:100`. BullMQ keeps completed jobs by default.
// On PostgreSQL it claims one job per round trip, fused with the previous job's completion.
import { randomBytes } from 'node:crypto';
import { createPostgresBackend, type Job, Queue, Worker, withBackend } from 'bullmq';
import { Redis } from 'ioredis';
import { countRows, type Peer, run } from './harness.js';

const queueName = 'bench';
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Each run gets keys of its own on the shared Redis server, removed when it ends. */
const prefix = `koban-bench-${process.pid}-${randomBytes(3).toString('hex')}`;
const onPostgres = withBackend(createPostgresBackend);
/** BullMQ installs its schema when it connects (untimed: before the clock, or before the latency run). */
const migrate = true;

interface Config {
  readonly backend: 'postgres' | 'redis';
  readonly concurrency: number;
}

function configOf(option: string | undefined): Config {
  const [backend, concurrency] = (option ?? 'postgres:50').split(':');
  if ((backend !== 'postgres' && backend !== 'redis') || !Number(concurrency))
    throw new Error(`BullMQ option ${option}: expected <postgres|redis>:<concurrency>, as postgres:50`);
  return { backend, concurrency: Number(concurrency) };
}

/** The pool serves every concurrent job's completion; more connections than jobs in flight are idle. */
const poolSize = (concurrency: number) => Math.min(concurrency, 20);

function openQueue(url: string, config: Config): Queue {
  if (config.backend === 'redis') return new Queue(queueName, { connection: new Redis(redisUrl), prefix });
  return new onPostgres.Queue(queueName, {
    connection: { connectionString: url, max: 2, migrate },
  }) as unknown as Queue;
}

function openWorker(url: string, config: Config, handle: (job: Job) => Promise<void>): Worker {
  const options = { concurrency: config.concurrency, drainDelay: 5 };
  if (config.backend === 'redis') {
    return new Worker(queueName, handle, {
      ...options,
      prefix,
      connection: new Redis(redisUrl, { maxRetriesPerRequest: null }),
    });
  }
  return new onPostgres.Worker(queueName, handle, {
    ...options,
    connection: { connectionString: url, max: poolSize(config.concurrency), migrate },
  }) as unknown as Worker;
}

let pendingQueue: Queue | undefined;

export const bullmq: Peer = {
  async producer(url, option) {
    const queue = openQueue(url, configOf(option));
    await queue.waitUntilReady(); // installs the schema on PostgreSQL
    return {
      async insertMany(count) {
        await queue.addBulk(Array.from({ length: count }, (_, n) => ({ name: 'noop', data: { n } })));
      },
      close: () => queue.close(),
    };
  },
  async consumer(url, started, option) {
    const config = configOf(option);
    const queue = openQueue(url, config);
    const worker = openWorker(url, config, async (job) => started((job.data as { n: number }).n));
    worker.on('error', (error) => process.stderr.write(`  [bullmq] ${error.message}\n`));
    await worker.waitUntilReady();
    return {
      insertOne: async (n) => void (await queue.add('noop', { n })),
      async stop() {
        await worker.close();
        await queue.close();
      },
    };
  },
  async pending(sql, option) {
    const config = configOf(option);
    if (config.backend === 'postgres') {
      return countRows(`SELECT count(*) FROM bullmq.job WHERE state <> 'completed'`)(sql);
    }
    pendingQueue ??= openQueue('', config);
    const counts = await pendingQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    return Object.values(counts).reduce((sum, count) => sum + count, 0);
  },
  async cleanup(option) {
    const config = configOf(option);
    if (config.backend === 'redis') {
      pendingQueue ??= openQueue('', config);
      await pendingQueue.obliterate({ force: true });
    }
    await pendingQueue?.close();
  },
  async serverPids(option) {
    if (configOf(option).backend === 'postgres') return [];
    const redis = new Redis(redisUrl);
    const info = await redis.info('server');
    await redis.quit();
    return [Number(/process_id:(\d+)/.exec(info)?.[1])];
  },
  settings(option) {
    const { backend, concurrency } = configOf(option);
    const where =
      backend === 'postgres'
        ? `on PostgreSQL (createPostgresBackend, pg pool of ${poolSize(concurrency)})`
        : 'on Redis 127.0.0.1:6379 (DB µs/job: redis-server)';
    return `${where}, concurrency ${concurrency}, completed jobs kept; insert: addBulk()`;
  },
};

run(bullmq);

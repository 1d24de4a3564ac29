// Koban, through its public API only.
import { defineWorker, type Job, Koban, newJob } from '../../index.js';
import { type Peer, run } from './harness.js';

let started: (n: number) => void = () => {};

class Noop {
  async process(job: Job<{ n: number }>): Promise<void> {
    started(job.args.n);
  }
}
defineWorker(Noop, { queue: 'bench' });

const logger = {
  info() {},
  warn() {}, // "no running node runs the queue" while the producer inserts
  error: (message: string, details?: unknown) =>
    process.stderr.write(`  [koban.ts] ${message} ${String(details)}\n`),
};

/** The queue limit comes from the orchestrator (it tries several and keeps the best). */
const limit = (option?: string) => Number(option ?? 1000);

export const koban: Peer = {
  async producer(url) {
    const instance = await Koban.start({ database: url, queues: {}, workers: [Noop], logger });
    return {
      async insertMany(count) {
        await instance.insertAll(Array.from({ length: count }, (_, n) => newJob(Noop, { n })));
      },
      close: () => instance.stop(),
    };
  },
  async consumer(url, onStart, option) {
    started = onStart;
    const instance = await Koban.start({
      database: url,
      queues: { bench: limit(option) },
      workers: [Noop],
      logger,
    });
    return {
      insertOne: async (n) => void (await instance.insert(newJob(Noop, { n }))),
      stop: () => instance.stop(),
    };
  },
  pendingSql: `select count(*) from koban.jobs where state <> 'completed'`,
  settings: (option) => `queue limit ${limit(option)}, LISTEN/NOTIFY (built in); insert: insertAll()`,
};

run(koban);

// Koban, through its public API, loaded from a build (see koban-dist.ts).
import type { Job } from '../../index.js';
import { loadKoban, quietLogger } from '../koban-dist.js';
import { countRows, type Peer, run } from './harness.js';

const { Koban, defineWorker, newJob } = await loadKoban();

let started: (n: number) => void = () => {};

class Noop {
  async process(job: Job<{ n: number }>): Promise<void> {
    started(job.args.n);
  }
}
defineWorker(Noop, { queue: 'bench' });

/** The queue limit comes from the orchestrator (`--koban-limits`). */
const limit = (option?: string) => Number(option ?? 2000);

export const koban: Peer = {
  async producer(url) {
    const instance = await Koban.start({ database: url, queues: {}, workers: [Noop], logger: quietLogger });
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
      logger: quietLogger,
    });
    return {
      insertOne: async (n) => void (await instance.insert(newJob(Noop, { n }))),
      stop: () => instance.stop(),
    };
  },
  // Counts what is still to do, wherever finished jobs are kept.
  pending: countRows(`SELECT count(*) FROM koban.jobs WHERE state <> 'completed'`),
  settings: (option) => `queue limit ${limit(option)}, LISTEN/NOTIFY (built in); insert: insertAll()`,
};

run(koban);

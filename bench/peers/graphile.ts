// graphile-worker 0.18 with batching turned on (its defaults fetch and complete one job per round trip).
import { Logger, makeWorkerUtils, run as runWorker } from 'graphile-worker';
import { type Peer, run } from './harness.js';

const quiet = new Logger(() => () => {});

export const graphile: Peer = {
  async producer(url) {
    const utils = await makeWorkerUtils({ connectionString: url, logger: quiet });
    await utils.migrate();
    return {
      async insertMany(count) {
        await utils.addJobs(
          Array.from({ length: count }, (_, n) => ({ identifier: 'noop', payload: { n } })),
        );
      },
      close: async () => utils.release(),
    };
  },
  async consumer(url, started) {
    const runner = await runWorker({
      connectionString: url,
      logger: quiet,
      noHandleSignals: true,
      taskList: { noop: async (payload) => started((payload as { n: number }).n) },
      preset: { worker: { concurrentJobs: 50, localQueue: { size: 500 }, completeJobBatchDelay: 0 } },
    });
    return {
      insertOne: async (n) => void (await runner.addJob('noop', { n })),
      stop: () => runner.stop(),
    };
  },
  pendingSql: 'select count(*) from graphile_worker._private_jobs',
  settings: () =>
    'concurrentJobs 50, localQueue.size 500, completeJobBatchDelay 0, NOTIFY on; insert: addJobs',
};

run(graphile);

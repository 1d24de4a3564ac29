// graphile-worker 0.18 with batching turned on (its defaults fetch and complete one job per round
// trip). The option is `concurrentJobs:localQueue.size`; the orchestrator runs several.
import { Logger, makeWorkerUtils, run as runWorker } from 'graphile-worker';
import { countRows, type Peer, run } from './harness.js';

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
  async consumer(url, started, option) {
    const { concurrentJobs, size } = configOf(option);
    const runner = await runWorker({
      connectionString: url,
      logger: quiet,
      noHandleSignals: true,
      taskList: { noop: async (payload) => started((payload as { n: number }).n) },
      preset: { worker: { concurrentJobs, localQueue: { size }, completeJobBatchDelay: 0 } },
    });
    return {
      insertOne: async (n) => void (await runner.addJob('noop', { n })),
      stop: () => runner.stop(),
    };
  },
  // graphile-worker deletes a job when it completes.
  pending: countRows('SELECT count(*) FROM graphile_worker._private_jobs'),
  settings: (option) => {
    const { concurrentJobs, size } = configOf(option);
    return `concurrentJobs ${concurrentJobs}, localQueue.size ${size}, completeJobBatchDelay 0, NOTIFY on; insert: addJobs`;
  },
};

function configOf(option: string | undefined): { concurrentJobs: number; size: number } {
  const [concurrentJobs, size] = (option ?? '50:500').split(':').map(Number);
  if (!Number.isInteger(concurrentJobs) || !Number.isInteger(size))
    throw new Error(`graphile-worker option ${option}: expected concurrentJobs:localQueue.size, as 50:500`);
  return { concurrentJobs: concurrentJobs!, size: size! };
}

run(graphile);

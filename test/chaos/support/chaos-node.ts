import { Koban } from '../../../index.js';
import { ChaosWorker } from './workers.js';

// A Koban node in a process of its own, for faults that could kill the process:
//   node --import tsx test/chaos/support/chaos-node.ts '<ChaosNodeConfig as JSON>'
// It prints `{"ready":"<node>"}` once started, and `{"stopped":<ms>}` after a SIGTERM stop.

export interface ChaosNodeConfig {
  readonly url: string;
  readonly node: string;
  readonly queues: Record<string, number>;
  readonly heartbeatInterval?: number;
  readonly rescueAfter?: number;
  readonly blockTolerance?: number;
  readonly poolSize?: number;
  readonly pollInterval?: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as ChaosNodeConfig;
let errors = 0;
const koban = await Koban.start({
  database: config.url,
  node: config.node,
  queues: config.queues,
  workers: [ChaosWorker],
  logger: {
    info() {},
    warn() {},
    error: () => {
      errors++;
    },
  },
  pollInterval: config.pollInterval ?? 500,
  stageInterval: 500,
  shutdownGrace: 2000,
  poolSize: config.poolSize ?? 5,
  ...(config.heartbeatInterval ? { heartbeatInterval: config.heartbeatInterval } : {}),
  ...(config.rescueAfter ? { rescueAfter: config.rescueAfter } : {}),
  ...(config.blockTolerance !== undefined ? { blockTolerance: config.blockTolerance } : {}),
});
process.stdout.write(`${JSON.stringify({ ready: koban.node })}\n`);

process.once('SIGTERM', () => {
  const started = Date.now();
  void koban.stop().then(() => {
    process.stdout.write(`${JSON.stringify({ stopped: Date.now() - started, errors })}\n`);
    process.exit(0);
  });
});

import { Koban, type KobanLogger } from '../../../index.js';
import { CronTickWorker, closeRecorder, openRecorder, raceWorkers } from './workers.js';

// A Koban node in a process of its own, for the multi-node race tests:
//   node --import tsx test/races/support/child-node.ts '<ChildConfig as JSON>'
// It prints `{"ready":"<node>"}` once started, logs background failures to stderr, and stops
// cleanly on SIGTERM.

export interface ChildConfig {
  readonly url: string;
  readonly node: string;
  readonly queues: Record<string, number>;
  readonly heartbeatInterval?: number;
  readonly rescueAfter?: number;
  readonly blockTolerance?: number;
  /** On SIGUSR2, blocks the event loop with a busy loop for this many milliseconds. */
  readonly blockOnSignalMs?: number;
  /** Adds a cron entry that inserts a CronTickWorker job every second. */
  readonly cronEverySecond?: boolean;
}

const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
const logger: KobanLogger = {
  info() {},
  warn: (details, message) =>
    console.log(`[${config.node}] warn: ${typeof details === 'string' ? details : message}`),
  error: (details, message) =>
    typeof details === 'string'
      ? console.error(`[${config.node}] ${details}`)
      : console.error(`[${config.node}] ${message}`, details.error ?? ''),
};

openRecorder(config.url);
const koban = await Koban.start({
  database: config.url,
  node: config.node,
  queues: config.queues,
  workers: raceWorkers,
  logger,
  pollInterval: 200,
  stageInterval: 200,
  shutdownGrace: 2000,
  poolSize: 4,
  ...(config.heartbeatInterval ? { heartbeatInterval: config.heartbeatInterval } : {}),
  ...(config.rescueAfter ? { rescueAfter: config.rescueAfter } : {}),
  ...(config.blockTolerance !== undefined ? { blockTolerance: config.blockTolerance } : {}),
  ...(config.cronEverySecond ? { cron: [{ expression: '* * * * * *', worker: CronTickWorker }] } : {}),
});
process.stdout.write(`${JSON.stringify({ ready: koban.node })}\n`);

process.on('SIGUSR2', () => {
  const until = performance.now() + (config.blockOnSignalMs ?? 0);
  while (performance.now() < until) {
    // a synchronous stretch of work: nothing else on this process runs meanwhile
  }
  process.stdout.write(`${JSON.stringify({ unblocked: koban.node })}\n`);
});

process.once('SIGTERM', () => {
  void koban
    .stop()
    .then(closeRecorder)
    .then(() => process.exit(0));
});

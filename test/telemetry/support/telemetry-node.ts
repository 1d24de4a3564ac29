// A Koban node in its own process for the telemetry tests: it runs the `telemetry` queue and
// prints each job:progress event as a JSON line. Config as JSON in argv: { url, node }.
import { Koban } from '../../../index.js';
import { quietLogger } from '../../support/wait.js';
import { telemetryWorkers } from './workers.js';

const config = JSON.parse(process.argv[2] ?? '{}') as { url: string; node: string };
const koban = await Koban.start({
  database: config.url,
  node: config.node,
  queues: { telemetry: 2 },
  workers: telemetryWorkers,
  logger: quietLogger,
  pollInterval: 200,
  shutdownGrace: 2000,
  poolSize: 3,
});
koban.on('job:progress', (event) => process.stdout.write(`${JSON.stringify({ progress: event })}\n`));
process.stdout.write(`${JSON.stringify({ ready: koban.node })}\n`);
process.once('SIGTERM', () => {
  void koban.stop().then(() => process.exit(0));
});

// A Koban node in its own process for the telemetry tests: it runs the `telemetry` queue, prints
// each job:progress event as a JSON line, and with `tracing` exports spans to memory and prints
// them as one JSON line when it stops. Config as JSON in argv: { url, node, tracing?, attemptContext? }.
import { Koban } from '../../../index.js';
import { quietLogger } from '../../support/wait.js';
import { memoryTracing } from './tracing.js';
import { telemetryWorkers } from './workers.js';

const config = JSON.parse(process.argv[2] ?? '{}') as {
  url: string;
  node: string;
  tracing?: boolean;
  attemptContext?: 'link' | 'parent';
};
const tracing = config.tracing ? memoryTracing() : undefined;
const koban = await Koban.start({
  database: config.url,
  node: config.node,
  queues: { telemetry: 2 },
  workers: telemetryWorkers,
  logger: quietLogger,
  pollInterval: 200,
  shutdownGrace: 2000,
  poolSize: 3,
  opentelemetry: tracing
    ? { tracerProvider: tracing.tracerProvider, metrics: false, attemptContext: config.attemptContext }
    : undefined,
});
koban.on('job:progress', (event) => process.stdout.write(`${JSON.stringify({ progress: event })}\n`));
process.stdout.write(`${JSON.stringify({ ready: koban.node })}\n`);
process.once('SIGTERM', () => {
  void koban.stop().then(() => {
    if (tracing) process.stdout.write(`${JSON.stringify({ spans: tracing.spans() })}\n`);
    process.exit(0);
  });
});

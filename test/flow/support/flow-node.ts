import { Koban, type QueueConfig } from '../../../index.js';
import { closeFlowRecorder, flowWorkers, openFlowRecorder } from './flow-workers.js';

// A Koban node in a process of its own for the flow-control tests:
//   node --import tsx test/flow/support/flow-node.ts '<FlowNodeConfig as JSON>'
// It prints `{"ready":"<node>"}` once started and stops cleanly on SIGTERM.

export interface FlowNodeConfig {
  readonly url: string;
  readonly node: string;
  readonly queues: Record<string, QueueConfig>;
  readonly heartbeatInterval: number;
  readonly rescueAfter: number;
  readonly blockTolerance?: number;
}

{
  const config = JSON.parse(process.argv[2] ?? '{}') as FlowNodeConfig;
  openFlowRecorder(config.url);
  const koban = await Koban.start({
    database: config.url,
    node: config.node,
    queues: config.queues,
    workers: flowWorkers,
    logger: { info() {}, warn() {}, error: (message) => console.error(`[${config.node}] ${message}`) },
    pollInterval: 100,
    heartbeatInterval: config.heartbeatInterval,
    rescueAfter: config.rescueAfter,
    ...(config.blockTolerance !== undefined ? { blockTolerance: config.blockTolerance } : {}),
    poolSize: 3,
  });
  process.stdout.write(`${JSON.stringify({ ready: koban.node })}\n`);
  process.once('SIGTERM', () => {
    void koban
      .stop()
      .then(closeFlowRecorder)
      .then(() => process.exit(0));
  });
}

import type { ResolvedConfig } from '../config.js';
import type { Engine } from '../engine/engine.js';
import type { KobanPlugin } from '../plugin.js';
import { CronScheduler } from '../plugins/cron.js';
import { Heartbeat, liveQueues } from '../plugins/heartbeat.js';
import { lifeline } from '../plugins/lifeline.js';
import { pruner } from '../plugins/pruner.js';
import { stager } from '../plugins/stager.js';
import { workflowSweeper } from '../plugins/workflow-sweeper.js';
import type { WorkerCatalog } from '../workers/worker-catalog.js';
import type { KobanEventEmitter } from './events.js';
import { PluginRunner } from './plugin-runner.js';

/**
 * The plugins of a node: Koban's own (heartbeat and leadership, stager, cron, and on the leader
 * the lifeline, the pruner and the workflow sweeper) followed by the user's.
 */
export class NodePlugins {
  private readonly heartbeat: Heartbeat;
  private readonly runner: PluginRunner;

  constructor(
    private readonly engine: Engine,
    private readonly config: ResolvedConfig,
    private readonly catalog: WorkerCatalog,
    events: KobanEventEmitter,
  ) {
    this.heartbeat = new Heartbeat(engine.database, {
      schema: config.schema,
      node: config.node,
      queues: [...config.queues.keys()],
      interval: config.heartbeatInterval,
      rescueAfter: config.rescueAfter,
      onLeadership: (leader) => this.runner.setLeader(leader),
    });
    const plugins: KobanPlugin[] = [
      this.heartbeat,
      stager(engine, config.stageInterval),
      new CronScheduler(config.cron, { engine, catalog }),
      lifeline(engine, {
        rescueAfter: config.rescueAfter,
        interval: config.heartbeatInterval,
        mayRescue: () => this.heartbeat.mayRescue,
      }),
      workflowSweeper(engine, config.workflowSweepInterval),
      ...(config.prune ? [pruner(engine, config.prune)] : []),
      ...config.plugins,
    ];
    this.runner = new PluginRunner(plugins, {
      node: config.node,
      logger: config.logger,
      report: (source, error) => events.emit('error', { source, error }),
    });
  }

  get isLeader(): boolean {
    return this.runner.isLeader;
  }

  /** Starts the plugins, the heartbeat first, then warns about queues no node runs. */
  async start(queues: readonly string[]): Promise<void> {
    await this.runner.start();
    if (queues.length > 0) await this.reportUnrunQueues();
  }

  /** Stops everything but the heartbeat, which keeps the node alive while its jobs finish. */
  stopScheduling(): Promise<void> {
    return this.runner.stop([this.heartbeat]);
  }

  /** Stops the heartbeat and leaves; `keepNode` keeps the node's row so its unfinished jobs are rescued. */
  async stop({ keepNode }: { keepNode: boolean }): Promise<void> {
    await this.runner.stop();
    await this.heartbeat.depart({ keepNode });
  }

  /**
   * Logs, once, the workers whose queue no live node runs: often a typo in a queue name. A node
   * that runs no queues (a web process, a test) says nothing.
   */
  private async reportUnrunQueues(): Promise<void> {
    const live = await liveQueues(this.engine.database, this.config.schema, this.config.rescueAfter);
    const unrun = this.catalog
      .all()
      .filter((worker) => !live.has(worker.definition.queue))
      .map((worker) => `${worker.definition.name} (queue "${worker.definition.queue}")`);
    if (unrun.length > 0) {
      this.config.logger.warn(
        `no running node runs the queue of ${unrun.join(', ')}; their jobs wait until a node starts that queue`,
      );
    }
  }
}

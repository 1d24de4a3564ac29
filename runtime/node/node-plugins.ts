import { KobanCascade } from '../../sdk/cascade.js';
import type { ResolvedConfig } from '../config.js';
import type { Engine } from '../engine/engine.js';
import type { NodeReport } from '../engine/nodes.js';
import { CronScheduler } from '../plugins/cron.js';
import { deadlineSweeper } from '../plugins/deadline-sweeper.js';
import { historyKeeper } from '../plugins/history-keeper.js';
import { lifeline } from '../plugins/lifeline.js';
import type { KobanPlugin } from '../plugins/plugin.js';
import { metricsPruner, pruner } from '../plugins/pruner.js';
import { rebootCron } from '../plugins/reboot-cron.js';
import { stager } from '../plugins/stager.js';
import { StoredCronScheduler } from '../plugins/stored-cron.js';
import { workflowSweeper } from '../plugins/workflow-sweeper.js';
import type { WorkerCatalog } from '../workers/worker-catalog.js';
import type { Workflows } from '../workflows/workflows.js';
import type { KobanEventEmitter } from './events.js';
import { Peer } from './peer.js';
import { PluginRunner } from './plugin-runner.js';

/** Milliseconds between runs of the history keeper. */
const historyInterval = 60_000;

/**
 * A node's background work: its peer (heartbeat and leadership), then the plugins, Koban's own
 * (stager, cron from the configuration and from the database, and on the leader the reboot cron, the lifeline, the pruner, the workflow and deadline sweepers) followed
 * by the user's.
 */
export class NodePlugins {
  private readonly peer: Peer;
  private readonly runner: PluginRunner;
  private readonly storedCron: StoredCronScheduler;
  private readonly configuredCron: CronScheduler;

  constructor(
    private readonly engine: Engine,
    private readonly config: ResolvedConfig,
    private readonly catalog: WorkerCatalog,
    workflows: Workflows,
    events: KobanEventEmitter,
    describe: () => NodeReport,
  ) {
    const report = (source: string, error: unknown) => events.emit('error', { source, error });
    const { logger } = config;
    this.peer = new Peer(engine, {
      node: config.node,
      queues: [...config.queues.keys()],
      interval: config.heartbeatInterval,
      rescueAfter: config.rescueAfter,
      // A beat that hangs was sent an interval after the last one reached the database, and the
      // next goes out an interval after it is abandoned: both must fit in rescueAfter, with room.
      beatTimeout: Math.min(
        config.claimTimeout,
        Math.max(config.heartbeatInterval, (config.rescueAfter - 2 * config.heartbeatInterval) / 2),
      ),
      onLeadership: async (leader) => {
        logger.info(
          { node: config.node, leader },
          leader ? `node ${config.node} is the leader now` : `node ${config.node} is no longer the leader`,
        );
        events.emit('node:leadership', { node: config.node, leader });
        await this.runner.setLeader(leader);
      },
      report: (error) => report('heartbeat', error),
      onOutage: (error) =>
        logger.warn(
          { node: config.node, error },
          `node ${config.node} lost the database: heartbeats fail; outcomes are kept until it is back`,
        ),
      onRecovery: (downMs) =>
        logger.info(
          { node: config.node, downMs },
          `node ${config.node} reaches the database again after ${Math.round(downMs / 100) / 10} s`,
        ),
      describe,
      logger: config.logger,
    });
    // Cron ticks go by the database's clock, so a node whose own clock is off fires none early.
    const now = () => new Date(catalog.clock.now());
    this.storedCron = new StoredCronScheduler({ catalog, syncInterval: config.cronSyncInterval, now });
    this.configuredCron = new CronScheduler(config.cron, { catalog, now });
    const plugins: KobanPlugin[] = [
      stager(config.stageInterval),
      this.configuredCron,
      this.storedCron,
      rebootCron({ catalog, entries: config.cron }),
      lifeline({
        rescueAfter: config.rescueAfter,
        interval: config.heartbeatInterval,
        mayRescue: () => this.peer.mayRescue,
        onRescued: (rescued) => {
          logger.warn(
            { node: config.node, rescued },
            `rescued ${rescued} executing job${rescued === 1 ? '' : 's'} of nodes that stopped heartbeating or restarted`,
          );
          events.emit('node:rescue', { node: config.node, rescued });
        },
      }),
      workflowSweeper(workflows, config.workflowSweepInterval),
      deadlineSweeper(config.stageInterval),
      historyKeeper(historyInterval),
      ...(config.prune ? [pruner(config.prune)] : []),
      ...(config.metrics ? [metricsPruner(config.metrics.maxAge)] : []),
      ...config.plugins,
    ];
    this.runner = new PluginRunner(plugins, { node: config.node, logger: config.logger, engine, report });
  }

  get isLeader(): boolean {
    return this.runner.isLeader;
  }

  /** Milliseconds since the database last heard from this node: see Peer.silentFor(). */
  silentFor(): number {
    return this.peer.silentFor();
  }

  /** Beats now; rejects if the beat fails. */
  beatNow(): Promise<void> {
    return this.peer.beatNow();
  }

  /** The stored cron entries changed: read them again. */
  refreshCron(): void {
    this.storedCron.refresh();
  }

  /** An operator ran a configured entry now: inserts its job if this node has the entry. */
  runCron(name: string, request: string): Promise<boolean> {
    return this.configuredCron.runNow(name, request);
  }

  /** Starts the peer (its first beat before any claim), then the plugins; warns about queues no node runs. */
  async start(queues: readonly string[]): Promise<void> {
    await this.peer.start();
    await this.runner.start();
    if (queues.length > 0) await this.reportUnrunQueues();
  }

  /** Stops the plugins; the peer keeps the node alive while its jobs finish. */
  stopScheduling(): Promise<void> {
    return this.runner.stop();
  }

  /** Stops the peer and leaves; `keepNode` keeps the node's row so its unfinished jobs are rescued. */
  async stop({ keepNode }: { keepNode: boolean }): Promise<void> {
    await this.runner.stop();
    await this.peer.stop({ keepNode });
  }

  /**
   * Logs, once, the workers whose queue no live node runs: often a typo in a queue name. A node
   * that runs no queues (a web process, a test) says nothing.
   */
  private async reportUnrunQueues(): Promise<void> {
    const live = await this.engine.liveQueues(this.config.rescueAfter);
    const unrun = this.catalog
      .all()
      // Koban's own cascade worker runs only where cascades are used: it is no typo of the user's.
      .filter((worker) => worker.worker !== KobanCascade && !live.has(worker.definition.queue))
      .map((worker) => `${worker.definition.name} (queue "${worker.definition.queue}")`);
    if (unrun.length > 0) {
      this.config.logger.warn(
        { workers: unrun },
        `no running node runs the queue of ${unrun.join(', ')}; their jobs wait until a node starts that queue`,
      );
    }
  }
}

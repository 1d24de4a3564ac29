import type { ResolvedConfig } from './config.js';
import type { Database } from './database.js';
import type { KobanEventEmitter } from './events.js';
import { Periodic } from './periodic.js';
import { CronScheduler } from './plugins/cron.js';
import { beat, liveQueues, removeNode } from './plugins/heartbeat.js';
import { claimLeadership, resignLeadership } from './plugins/leader.js';
import { rescueOrphans } from './plugins/lifeline.js';
import { pruneJobs } from './plugins/pruner.js';
import { stageDueJobs } from './plugins/stager.js';
import type { WorkerCatalog } from './worker-catalog.js';

/**
 * The periodic work of a node: heartbeat and leadership, staging of due jobs, cron, and on the
 * leader, the lifeline and the pruner.
 */
export class NodeServices {
  private leader = false;
  private beaten = false;
  private queues: readonly string[] = [];
  private readonly heartbeat: Periodic;
  private readonly stager: Periodic;
  private readonly pruner: Periodic | undefined;
  private readonly cron: CronScheduler;

  constructor(
    private readonly database: Database,
    private readonly config: ResolvedConfig,
    private readonly catalog: WorkerCatalog,
    events: KobanEventEmitter,
  ) {
    const { schema } = config;
    this.heartbeat = new Periodic('heartbeat', config.heartbeatInterval, () => this.beat(), events);
    this.stager = new Periodic(
      'stager',
      config.stageInterval,
      async () => {
        await stageDueJobs(database, schema);
      },
      events,
    );
    const prune = config.prune;
    if (prune) {
      this.pruner = new Periodic(
        'pruner',
        prune.interval,
        async () => {
          if (this.leader) await pruneJobs(database, schema, prune.maxAge, prune.limit);
        },
        events,
      );
    }
    this.cron = new CronScheduler(config.cron, { database, schema, catalog, events });
  }

  get isLeader(): boolean {
    return this.leader;
  }

  async start(queues: readonly string[]): Promise<void> {
    this.queues = queues;
    await this.beat();
    this.heartbeat.start();
    this.stager.start();
    this.pruner?.start();
    this.cron.start();
  }

  /** Runs the lifeline now (normally on the leader's heartbeat). */
  rescue(): Promise<number> {
    return rescueOrphans(this.database, this.config.schema, this.config.rescueAfter);
  }

  stage(): Promise<number> {
    return stageDueJobs(this.database, this.config.schema);
  }

  /**
   * Logs, once, the workers whose queue no live node runs: often a typo in a queue name. A node
   * given no queues (`queues: {}`, an insert-only or test node) runs none on purpose: no warning.
   */
  async reportUnrunQueues(): Promise<void> {
    if (this.queues.length === 0) return;
    const live = await liveQueues(this.database, this.config.schema, this.config.rescueAfter);
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

  async stopScheduling(): Promise<void> {
    await Promise.all([this.stager.stop(), this.pruner?.stop(), this.cron.stop()]);
  }

  /** Stops the heartbeat. `leaveNode` keeps the node row so its unfinished jobs are rescued later. */
  async stop({ leaveNode }: { leaveNode: boolean }): Promise<void> {
    await this.heartbeat.stop();
    const { schema, node } = this.config;
    if (this.leader) await resignLeadership(this.database, schema, node).catch(() => undefined);
    if (!leaveNode) await removeNode(this.database, schema, node).catch(() => undefined);
  }

  private async beat(): Promise<void> {
    const { schema, node, heartbeatInterval } = this.config;
    await beat(this.database, schema, node, this.queues, !this.beaten);
    this.beaten = true;
    this.leader = await claimLeadership(this.database, schema, node, heartbeatInterval * 3);
    if (this.leader) await rescueOrphans(this.database, schema, this.config.rescueAfter);
  }
}

import { KobanJobCancelledError, KobanShutdownError } from '../../sdk/errors.js';
import type { ResolvedConfig } from '../config.js';
import type { Engine } from '../engine/engine.js';
import type { Signal } from '../engine/signals.js';
import type { WorkerCatalog } from '../workers/worker-catalog.js';
import type { Workflows } from '../workflows/workflows.js';
import { Acker } from './acker.js';
import { finishedBy } from './deadline.js';
import type { KobanEventEmitter } from './events.js';
import type { ExecutorDeps, RunningJob } from './executor.js';
import { NodePlugins } from './node-plugins.js';
import { Periodic } from './periodic.js';
import { Producer } from './producer.js';
import { missedSignals } from './signal-poller.js';

/** How long stop() waits for aborted jobs to settle after the grace period. */
const abortSettleMs = 1000;

/** How long stop() may then spend writing the last outcomes and leaving before it closes anyway. */
export const releaseMs = 3000;

export interface QueueStatus {
  readonly queue: string;
  readonly limit: number;
  readonly running: number;
  readonly paused: boolean;
}

/**
 * What runs on this node: a producer per queue, the acker that writes their outcomes, the peer
 * and the plugins, and the listeners that wake producers and carry signals.
 */
export class Node {
  readonly producers = new Map<string, Producer>();
  readonly running = new Map<string, RunningJob>();
  private readonly acker: Acker;
  private readonly plugins: NodePlugins;
  private unlisteners: (() => Promise<void>)[] = [];

  constructor(
    private readonly engine: Engine,
    private readonly config: ResolvedConfig,
    catalog: WorkerCatalog,
    workflows: Workflows,
    private readonly events: KobanEventEmitter,
    private readonly executor: ExecutorDeps,
  ) {
    this.acker = new Acker(engine, events);
    this.plugins = new NodePlugins(engine, config, catalog, workflows, events);
  }

  get isLeader(): boolean {
    return this.plugins.isLeader;
  }

  async start(): Promise<void> {
    this.unlisteners.push(
      await this.engine.listenInserts(
        (queue) => this.producers.get(queue)?.wake(),
        // Inserts notified while the connection was down were missed: look for them now.
        () => this.wakeAll(),
      ),
      await this.engine.listenSignals((message) => this.apply(message)),
    );
    const stored = await this.engine.readQueueStates();
    for (const [queue, { limit, paused }] of this.config.queues) {
      const state = stored.get(queue);
      const producer = new Producer(queue, state?.limit ?? limit, state?.paused ?? paused ?? false, {
        ...this.executor,
        engine: this.engine,
        acker: this.acker,
        running: this.running,
        pollInterval: this.config.pollInterval,
      });
      this.producers.set(queue, producer);
    }
    // The peer's first beat comes before the first claim: see peer.ts.
    await this.plugins.start([...this.config.queues.keys()]);
    for (const producer of this.producers.values()) producer.start();
    if (!this.engine.listens()) {
      // No NOTIFY reaches this node: producers poll every pollInterval, and so do the signals.
      const poller = new Periodic(
        this.config.pollInterval,
        async () => {
          for (const message of await missedSignals(this.engine, this)) this.apply(message);
        },
        (error) => this.events.emit('error', { source: 'signal poll', error }),
      );
      poller.start(this.config.pollInterval);
      this.unlisteners.push(() => poller.stop());
    }
  }

  /** The queues this node runs, with their limits and running counts. */
  queues(): QueueStatus[] {
    return [...this.producers.values()].map((producer) => ({
      queue: producer.queue,
      limit: producer.limit,
      running: producer.running,
      paused: producer.paused,
    }));
  }

  /** Applies a signal to this node; pause, resume and scale apply at once on the node that asked too. */
  apply(message: Signal): void {
    if (message.action === 'abort') {
      for (const id of message.ids) this.running.get(id)?.abort.abort(new KobanJobCancelledError(id));
      return;
    }
    const producer = this.producers.get(message.queue);
    if (!producer) return;
    if (message.action === 'pause') producer.pause();
    else if (message.action === 'resume') producer.resume();
    else if (message.action === 'scale') producer.scale(message.limit);
  }

  /**
   * Stops fetching, waits until `graceEnds` for running jobs, aborts the rest, and writes the
   * last outcomes within `releaseMs`. Returns whether everything was written.
   */
  async stop(graceEnds: number): Promise<boolean> {
    // With the database down or not answering, a claim, a periodic task or a write in flight may
    // never settle: each step gets a deadline, so stop() keeps to shutdownGrace whatever happens.
    await finishedBy(this.plugins.stopScheduling(), graceEnds);
    const producers = [...this.producers.values()];
    await finishedBy(
      Promise.all(producers.map((producer) => producer.stop(this.config.shutdownGrace))),
      graceEnds,
    );
    if (this.running.size > 0) {
      for (const job of this.running.values()) job.abort.abort(new KobanShutdownError(this.config.node));
      // Jobs that honour the abort settle quickly and go back to the queue with their attempt refunded.
      await Promise.all(producers.map((producer) => producer.settled(abortSettleMs)));
    }
    const released = await finishedBy(this.release(), Date.now() + releaseMs);
    if (!released) this.acker.close();
    return released;
  }

  /** Writes the last outcomes and leaves: the steps of stop() that need the database. */
  private async release(): Promise<void> {
    await this.acker.flush();
    this.acker.close();
    await this.plugins.stop({ keepNode: this.running.size > 0 });
    await Promise.allSettled(this.unlisteners.map((unlisten) => unlisten()));
  }

  private wakeAll(): void {
    for (const producer of this.producers.values()) producer.wake();
  }
}

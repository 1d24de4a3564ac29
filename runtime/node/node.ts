import { KobanJobCancelledError, KobanShutdownError } from '../../sdk/errors.js';
import type { ResolvedConfig } from '../config.js';
import type { Engine } from '../engine/engine.js';
import { changedFlow, type FlowLimits, type WorkerChainLimit } from '../engine/flow.js';
import type { NodeReport } from '../engine/nodes.js';
import type { StoredQueueState } from '../engine/queues.js';
import type { Signal } from '../engine/signals.js';
import { cronEntryName, cronWorkerName } from '../plugins/cron.js';
import { MetricsRollup } from '../telemetry/metrics-rollup.js';
import type { WorkerCatalog } from '../workers/worker-catalog.js';
import type { Workflows } from '../workflows/workflows.js';
import { Acker } from './acker.js';
import { BlockWatch } from './block-watch.js';
import { Convergence } from './convergence.js';
import { finishedBy, valueWithin } from './deadline.js';
import type { KobanEventEmitter } from './events.js';
import type { ExecutorDeps, RunningJob } from './executor.js';
import { NodePlugins } from './node-plugins.js';
import { Periodic } from './periodic.js';
import { Poller } from './poller.js';
import { Producer } from './producer.js';
import { SignalPoller, sameFlow } from './signal-poller.js';
import { workerChains } from './worker-chains.js';

/** How long stop() waits for aborted jobs to settle after the grace period. */
const abortSettleMs = 1000;

/** How long stop() may then spend writing the last outcomes and leaving before it closes anyway. */
export const releaseMs = 3000;

export interface QueueStatus {
  readonly queue: string;
  readonly limit: number;
  readonly running: number;
  /** Whether this node claims none of its jobs: paused on every node, or on this one. */
  readonly paused: boolean;
  /** Present while the queue is paused on this node only (`pauseQueue(queue, { node })`). */
  readonly pausedHere?: true;
  /** The queue's cluster-wide limits, as this node applies them. */
  readonly flow: FlowLimits;
}

/**
 * What runs on this node: a producer per queue, the acker that writes their outcomes, the peer
 * and the plugins, and the listeners that wake producers and carry signals.
 */
export class Node {
  readonly producers = new Map<string, Producer>();
  readonly running = new Map<string, RunningJob>();
  private readonly held: Set<string>;
  private readonly convergence: Convergence;
  private readonly poller: Poller;
  private readonly acker: Acker;
  private readonly plugins: NodePlugins;
  private unlisteners: (() => Promise<void>)[] = [];
  private readonly metrics: MetricsRollup | undefined;
  private metricsFlush: Periodic | undefined;
  private readonly blockWatch: BlockWatch;
  /** The beat and reconciliation after a silence that may have cost this node its jobs, while in progress. */
  private rejoining: Promise<void> | undefined;
  /** The chains of the chained workers this node runs, by their queue. */
  private readonly chains: ReadonlyMap<string, readonly WorkerChainLimit[]>;

  constructor(
    private readonly engine: Engine,
    private readonly config: ResolvedConfig,
    catalog: WorkerCatalog,
    workflows: Workflows,
    private readonly events: KobanEventEmitter,
    private readonly executor: ExecutorDeps,
  ) {
    this.acker = new Acker(engine, events, config.claimTimeout);
    this.chains = workerChains(catalog);
    this.metrics = config.metrics ? new MetricsRollup(engine, config.node) : undefined;
    const { metrics } = config;
    if (metrics && this.metrics) {
      const rollup = this.metrics;
      this.metricsFlush = new Periodic(
        metrics.interval,
        () => rollup.flush(),
        (error) => events.emit('error', { source: 'metrics history', error }),
      );
    }
    this.plugins = new NodePlugins(engine, config, catalog, workflows, events, () => this.report());
    this.held = executor.held ?? new Set();
    this.poller = new Poller(engine, this.producers, config.pollInterval, (error) =>
      events.emit('error', { source: 'poll', error }),
    );
    this.convergence = new Convergence({
      engine,
      node: config.node,
      held: this.held,
      running: this.running,
      producers: () => this.producers.values(),
      interval: config.heartbeatInterval,
      graceMs: 2 * config.claimTimeout,
      report: (error) => events.emit('error', { source: 'convergence', error }),
      onStored: (stored) => this.converge(stored),
    });
    this.blockWatch = new BlockWatch({
      node: config.node,
      blockTolerance: config.blockTolerance,
      rescueAfter: config.rescueAfter,
      logger: config.logger,
      onBlock: () => this.rejoin()?.catch((error) => events.emit('error', { source: 'heartbeat', error })),
    });
  }

  /**
   * After a silence that may have made the leader take this node for dead (its event loop
   * blocked, or the database unreachable, for nearly `rescueAfter`), the node beats and aborts
   * the jobs no longer executing under it before it claims again: a job claimed before the beat
   * could be rescued as an orphan of a dead node while it runs here. Returns what claims wait
   * for, or undefined when nothing needs waiting for.
   */
  private rejoin(): Promise<void> | undefined {
    if (this.rejoining) return this.rejoining;
    const { rescueAfter, heartbeatInterval } = this.config;
    if (this.plugins.silentFor() <= rescueAfter - heartbeatInterval) return undefined;
    const rejoining = (async () => {
      await this.plugins.beatNow();
      // The beat is what a new claim needs; the reconciliation, should it hang, is left running.
      await valueWithin(this.convergence.run(), this.config.claimTimeout);
    })();
    this.rejoining = rejoining;
    void rejoining
      .catch(() => undefined)
      .then(() => {
        if (this.rejoining === rejoining) this.rejoining = undefined;
      });
    return rejoining;
  }

  /**
   * Takes what was stored at run time and whose signal this node may have missed: queues started
   * or stopped on every node, and cluster-wide limits changed.
   */
  private converge(stored: ReadonlyMap<string, StoredQueueState>): void {
    for (const [queue, state] of stored) {
      const producer = this.producers.get(queue);
      if (state.run === 'stopped' && producer) this.startOrStop({ action: 'stop', queue });
      else if (state.run === 'started' && !producer) this.startOrStop({ action: 'start', queue, state });
      else if (producer && state.flow) {
        const flow = changedFlow(this.baseFlow(queue), state.flow);
        if (!sameFlow(flow, producer.flow)) producer.configure(flow);
      }
    }
  }

  get isLeader(): boolean {
    return this.plugins.isLeader;
  }

  /**
   * The cluster-wide limits a queue was configured with at start, before any stored change, with
   * the chains of its chained workers.
   */
  baseFlow(queue: string): FlowLimits | undefined {
    const flow = this.config.queues.get(queue)?.flow;
    const chains = this.chains.get(queue);
    return chains ? { ...flow, chains } : flow;
  }

  /** Producers of queues stopped at run time, until their running jobs have finished. */
  private readonly stopping = new Set<Promise<boolean>>();
  private stopped = false;

  async start(): Promise<void> {
    this.unlisteners.push(
      await this.engine.listenInserts(
        (queue) => this.producers.get(queue)?.announce(),
        // Inserts notified while the connection was down were missed: look for them now, and
        // for the queue changes and cancellations signalled meanwhile.
        () => {
          this.wakeAll();
          this.convergence.now();
        },
      ),
      await this.engine.listenSignals((message) => this.apply(message)),
    );
    const stored = await this.engine.readQueueStates();
    for (const [queue, state] of stored) {
      if (state.run === 'started' && !this.config.queues.has(queue))
        this.producers.set(queue, this.producer(queue, state));
    }
    for (const [queue, { limit, paused, flow }] of this.config.queues) {
      const state = stored.get(queue);
      if (state?.run === 'stopped') continue;
      this.producers.set(
        queue,
        this.producer(queue, {
          limit: state?.limit ?? limit,
          paused: state?.paused ?? paused,
          flow: changedFlow(flow, state?.flow),
          run: null,
        }),
      );
    }
    // No NOTIFY reaches this node: producers poll every pollInterval, and so do the signals.
    const signals = this.engine.listens() ? undefined : new SignalPoller(this.engine, this);
    await signals?.baseline();
    // The peer's first beat comes before the first claim: see peer.ts.
    await this.plugins.start([...this.config.queues.keys()]);
    for (const producer of this.producers.values()) producer.start();
    this.convergence.start();
    this.blockWatch.start();
    this.poller.start();
    this.metricsFlush?.start(this.config.metrics ? this.config.metrics.interval : 0);
    if (signals) {
      const poller = new Periodic(
        this.config.pollInterval,
        async () => {
          for (const message of await signals.missed()) this.apply(message);
        },
        (error) => this.events.emit('error', { source: 'signal poll', error }),
      );
      poller.start(this.config.pollInterval);
      this.unlisteners.push(() => poller.stop());
    }
  }

  /** A producer for a queue; a queue started at run time has no limits but those stored. */
  private producer(queue: string, state: StoredQueueState): Producer {
    const limit = state.limit ?? (typeof state.flow?.global === 'number' ? state.flow.global : 1);
    return new Producer(
      queue,
      limit,
      state.paused,
      {
        ...this.executor,
        metrics: this.metrics,
        engine: this.engine,
        acker: this.acker,
        running: this.running,
        held: this.held,
        claimTimeout: this.config.claimTimeout,
        pollInterval: this.config.pollInterval,
        polledByNode: true,
        beforeClaim: () => this.rejoin(),
      },
      changedFlow(this.chains.has(queue) ? { chains: this.chains.get(queue) } : undefined, state.flow),
    );
  }

  /** The queues this node runs, with their limits and running counts. */
  queues(): QueueStatus[] {
    return [...this.producers.values()].map((producer) => ({
      queue: producer.queue,
      limit: producer.limit,
      running: producer.running,
      paused: producer.paused || producer.pausedHere,
      ...(producer.pausedHere ? { pausedHere: true } : {}),
      flow: producer.flow ?? {},
    }));
  }

  /** What this node runs, as its heartbeat records it for the operator's view. */
  report(): NodeReport {
    return {
      queues: this.queues(),
      cron: this.config.cron.map((entry) => ({
        name: cronEntryName(entry),
        expression: entry.expression,
        timezone: entry.timezone ?? null,
        worker: cronWorkerName(entry),
      })),
    };
  }

  /** Applies a signal to this node; pause, resume, scale and cron changes apply at once on the node that asked too. */
  apply(message: Signal): void {
    if (message.action === 'abort') {
      for (const id of message.ids) this.running.get(id)?.abort.abort(new KobanJobCancelledError(id));
      return;
    }
    if (message.action === 'cron') {
      this.plugins.refreshCron();
      return;
    }
    if (message.action === 'cron-run') {
      if (typeof message.name !== 'string' || typeof message.request !== 'string') return;
      this.plugins
        .runCron(message.name, message.request)
        .catch((error) =>
          this.config.logger.error({ error, cron: message.name }, `cron ${message.name}: run now failed`),
        );
      return;
    }
    if (message.action === 'start' || message.action === 'stop') {
      this.startOrStop(message);
      return;
    }
    const producer = this.producers.get(message.queue);
    if (!producer) return;
    if ((message.action === 'pause' || message.action === 'resume') && message.node !== undefined) {
      if (message.node !== this.config.node) return;
      if (message.action === 'pause') producer.pauseHere();
      else producer.resumeHere();
    } else if (message.action === 'pause') producer.pause();
    else if (message.action === 'resume') producer.resume();
    else if (message.action === 'scale') producer.scale(message.limit);
    else if (message.action === 'configure') {
      producer.configure(changedFlow(this.baseFlow(message.queue), message.flow));
    }
  }

  /**
   * Starts a queue on this node (or, if it runs already, applies its stored state), or stops it:
   * it claims no more, and its running jobs finish and are written as usual.
   */
  private startOrStop(message: Extract<Signal, { action: 'start' | 'stop' }>): void {
    if (this.stopped) return;
    const running = this.producers.get(message.queue);
    if (message.action === 'stop') {
      if (!running) return;
      this.producers.delete(message.queue);
      const stopping = running.stop(this.config.shutdownGrace);
      this.stopping.add(stopping);
      void stopping.finally(() => this.stopping.delete(stopping));
      return;
    }
    const { state } = message;
    const base = this.config.queues.get(message.queue);
    if (running) {
      if (state.limit !== null) running.scale(state.limit);
      running.configure(changedFlow(this.baseFlow(message.queue), state.flow));
      if (state.paused) running.pause();
      else running.resume();
      return;
    }
    const producer = base
      ? this.producer(message.queue, {
          ...state,
          limit: state.limit ?? base.limit,
          flow: { ...base.flow, ...state.flow },
        })
      : this.producer(message.queue, state);
    this.producers.set(message.queue, producer);
    producer.start();
  }

  /**
   * Stops fetching, waits until `graceEnds` for running jobs, aborts the rest, and writes the
   * last outcomes within `releaseMs`. Returns whether everything was written.
   */
  async stop(graceEnds: number): Promise<boolean> {
    // With the database down or not answering, a claim, a periodic task or a write in flight may
    // never settle: each step gets a deadline, so stop() keeps to shutdownGrace whatever happens.
    this.stopped = true;
    this.blockWatch.stop();
    await finishedBy(
      Promise.all([this.plugins.stopScheduling(), this.convergence.stop(), this.poller.stop()]),
      graceEnds,
    );
    const producers = [...this.producers.values()];
    await finishedBy(
      Promise.all([
        ...producers.map((producer) => producer.stop(this.config.shutdownGrace)),
        ...this.stopping,
      ]),
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
    // The attempts of the last minutes, the ones that ended during the grace period included.
    await this.metricsFlush?.stop();
    await this.metrics
      ?.flush()
      .catch((error) => this.events.emit('error', { source: 'metrics history', error }));
    await this.plugins.stop({ keepNode: this.running.size > 0 });
    await Promise.allSettled(this.unlisteners.map((unlisten) => unlisten()));
  }

  private wakeAll(): void {
    for (const producer of this.producers.values()) producer.wake();
  }
}

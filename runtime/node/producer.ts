import { KobanDatabaseError } from '../../sdk/errors.js';
import type { ClaimedJob } from '../engine/claim.js';
import type { Engine } from '../engine/engine.js';
import { claimsInOrder, type FlowLimits, isLimited, type LimitedClaim } from '../engine/flow.js';
import type { RunnableWorker } from '../workers/worker-catalog.js';
import type { Acker } from './acker.js';
import { executeChunk } from './chunk-executor.js';
import { ChunkGatherer } from './chunk-gatherer.js';
import { ClaimFloor } from './claim-floor.js';
import { late, valueWithin } from './deadline.js';
import { type ExecutorDeps, executeJob, type RunningJob } from './executor.js';

export interface ProducerDeps extends ExecutorDeps {
  readonly engine: Engine;
  readonly acker: Acker;
  readonly running: Map<string, RunningJob>;
  /** The ids of the jobs this node holds, from their claim until their outcome is written. */
  readonly held: Set<string>;
  /** Milliseconds a claim may take before it is abandoned (`claimTimeout`). */
  readonly claimTimeout: number;
  readonly pollInterval: number;
  /** The node polls for every queue at once (see poller.ts): no timer of the producer's own. */
  readonly polledByNode?: boolean;
  /** Something to wait for before a claim, if anything: see Node.rejoin(). */
  readonly beforeClaim?: () => Promise<void> | undefined;
}

/**
 * Claims a producer keeps in flight at once. While the jobs of one claim run, the next claim is
 * already on its way, so that neither Node nor PostgreSQL waits for the other; each claim takes
 * a share of the limit.
 */
const claimsInFlight = 2;

/** How long a queue whose jobs a cluster-wide limit held back waits before it looks again. */
const heldRetryMs = 50;

/**
 * Runs one queue on this node: keeps at most `limit` of its jobs executing (claimed jobs count
 * from the moment they are asked for), claims a share of the limit per statement with up to
 * `claimsInFlight` claims out at once, fetches again at once while claims come back full, and
 * otherwise waits for a NOTIFY or the poll timer. Claimed jobs are `executing` under this
 * node's name, so a job claimed but not yet started is rescued like any other if the node dies,
 * and never runs twice while it lives.
 */
export class Producer {
  private active = 0;
  private unacked = 0;
  /** Slots asked for by claims still in flight. */
  private reserved = 0;
  private readonly fetches = new Set<Promise<void>>();
  private wakeRequested = false;
  private queueHasMore = false;
  private stopped = false;
  private pausedLocally = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /** Available jobs were left by a cluster-wide limit at the last claim: a finished job may free a slot. */
  private heldBack = false;
  /**
   * Jobs of a limited queue whose attempt has ended and whose outcome is being written: their
   * slots of the cluster-wide limits are free, and the claims say so.
   */
  private readonly finished = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;
  /** The chunks of chunk workers' jobs being gathered: each takes one slot (see chunk-gatherer.ts). */
  private readonly chunks: ChunkGatherer;
  /** Where the next claim in the queue's order starts (see claim-floor.ts). */
  private readonly floor = new ClaimFloor();

  constructor(
    readonly queue: string,
    private limitValue: number,
    private pausedValue: boolean,
    private readonly deps: ProducerDeps,
    private flowValue?: FlowLimits,
  ) {
    this.chunks = new ChunkGatherer(queue, {
      engine: deps.engine,
      node: deps.node,
      events: deps.events,
      held: deps.held,
      running: deps.running,
      // In a queue with cluster-wide limits, a chunk takes only what the limited claims hand it.
      mayFill: () => !this.stopped && !this.pausedValue && !this.pausedLocally && this.flow === undefined,
      run: (jobs, entry) => this.runChunk(jobs, entry),
    });
  }

  /** The queue's cluster-wide limits, if it has any. */
  get flow(): FlowLimits | undefined {
    return isLimited(this.flowValue) ? this.flowValue : undefined;
  }

  /** Applies changed cluster-wide limits from the next claim on. */
  configure(flow: FlowLimits): void {
    this.flowValue = flow;
    this.wake();
  }

  start(): void {
    if (!this.deps.polledByNode) {
      this.pollTimer = setInterval(() => this.wake(), this.deps.pollInterval);
      this.pollTimer.unref();
    }
    this.wake();
  }

  get limit(): number {
    return this.limitValue;
  }

  /** Paused on every node (the stored state); see `pausedHere` for this node alone. */
  get paused(): boolean {
    return this.pausedValue;
  }

  /** Paused on this node only, by `pauseQueue(queue, { node })`: kept in memory, not stored. */
  get pausedHere(): boolean {
    return this.pausedLocally;
  }

  get running(): number {
    return this.active;
  }

  pause(): void {
    this.pausedValue = true;
  }

  resume(): void {
    this.pausedValue = false;
    this.wake();
  }

  pauseHere(): void {
    this.pausedLocally = true;
  }

  resumeHere(): void {
    this.pausedLocally = false;
    this.wake();
  }

  scale(limit: number): void {
    this.limitValue = limit;
    this.wake();
  }

  /** A NOTIFY or the node's poll says the queue has new jobs: they may be behind the claim floor. */
  announce(): void {
    this.floor.jobsAnnounced();
    this.wake();
  }

  /**
   * Asks for a fetch: from a NOTIFY, the poll timer, or a finished job. A second claim goes out
   * beside one in flight only once claims come back full: an idle queue costs one claim per wake.
   */
  wake(): void {
    if (this.stopped || this.pausedValue || this.pausedLocally) return;
    this.chunks.wake();
    if (this.fetches.size >= claimsInFlight || (this.fetches.size > 0 && !this.queueHasMore)) {
      this.wakeRequested = true;
      return;
    }
    const fetch = this.dispatch();
    this.fetches.add(fetch);
    void fetch.finally(() => this.fetches.delete(fetch));
  }

  /** Stops fetching; resolves when the jobs running now have finished or `graceMs` has passed. */
  async stop(graceMs: number): Promise<boolean> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.retryTimer);
    // Claims already sent may still return rows; they run like the others, and so do open chunks.
    await Promise.all([...this.fetches]);
    void this.chunks.flush();
    return this.settled(graceMs);
  }

  /** Resolves true once no job of this producer runs, or false after `ms`. */
  async settled(ms: number): Promise<boolean> {
    if (this.inFlight.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const drained = Promise.allSettled([...this.inFlight]).then(() => true);
    const finished = await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    return finished;
  }

  private async dispatch(): Promise<void> {
    // Up to `limit` jobs run or are being claimed, and the next claim may overlap the writing of
    // the last outcomes, but no more than `limit` outcomes may wait to be written: lagging acks
    // slow fetching down.
    const limit = this.limitValue;
    const taken = this.active + this.reserved;
    const demand = Math.min(
      Math.ceil(limit / claimsInFlight),
      limit - taken,
      2 * limit - taken - this.unacked,
    );
    if (demand <= 0) return;
    this.reserved += demand;
    this.wakeRequested = false;
    let claimed: ClaimedJob[] = [];
    try {
      const rejoining = this.deps.beforeClaim?.();
      if (rejoining) {
        await rejoining;
        if (this.stopped) return;
      }
      const flow = this.flow;
      const abandon = new AbortController();
      const claiming = flow ? this.claimLimited(demand, flow) : this.claimPlain(demand, abandon.signal);
      // A claim the server sleeps on, or whose reply a half-open connection holds, would stop
      // the queue for good: past its deadline it is abandoned, and should it still commit, the
      // node never runs its jobs, which reconcileHoldings gives back.
      const result = await valueWithin(claiming, this.deps.claimTimeout);
      if (result === late) {
        // Cancelled in the server, its connection returns to the pool. A limited claim runs in a
        // transaction, which this does not reach: the server ends it at the same deadline.
        abandon.abort();
        throw new KobanDatabaseError(
          `a claim from queue ${this.queue} got no answer within claimTimeout (${this.deps.claimTimeout} ms): ` +
            'abandoned, and any job it took is given back',
        );
      }
      claimed = result;
      this.queueHasMore = claimed.length === demand;
    } catch (error) {
      this.queueHasMore = false;
      this.deps.events.emit('error', { source: `fetch ${this.queue}`, error });
    } finally {
      this.reserved -= demand;
    }
    for (const job of claimed) this.run(job);
    if (
      (this.queueHasMore || this.wakeRequested) &&
      !this.stopped &&
      !this.pausedValue &&
      !this.pausedLocally
    )
      this.wake();
  }

  /** A claim of a queue without cluster-wide limits, past the claim floor when it has one. */
  private async claimPlain(demand: number, signal: AbortSignal): Promise<ClaimedJob[]> {
    const startedAt = performance.now();
    const from = this.floor.start(startedAt);
    try {
      const { jobs, last } = await this.deps.engine.claimQueue(this.queue, demand, this.deps.node, {
        signal,
        after: from,
      });
      this.floor.claimed(from, jobs.length === demand, last, performance.now() - startedAt);
      return jobs;
    } catch (error) {
      this.floor.failed(from, performance.now() - startedAt);
      throw error;
    }
  }

  /**
   * A claim within cluster-wide limits. Jobs held back by a limit are looked for again when a job
   * of this node finishes, when the rate window has room, or after a short wait (a slot freed on
   * another node sends no NOTIFY), whichever comes first.
   */
  private async claimLimited(demand: number, flow: FlowLimits): Promise<ClaimedJob[]> {
    const startedAt = performance.now();
    const floored = claimsInOrder(flow);
    const from = floored ? this.floor.start(startedAt) : undefined;
    let claim: LimitedClaim;
    try {
      claim = await this.deps.engine.claimLimited(this.queue, demand, this.deps.node, flow, {
        deadlineMs: this.deps.claimTimeout,
        finished: [...this.finished],
        after: from,
      });
    } catch (error) {
      if (floored) this.floor.failed(from, performance.now() - startedAt);
      throw error;
    }
    const { jobs, held, retryInMs, last } = claim;
    if (floored)
      this.floor.claimed(from, held || jobs.length === demand, last, performance.now() - startedAt);
    this.heldBack = held;
    if (held && this.retryTimer === undefined) {
      const delay = Math.min(this.deps.pollInterval, Math.max(5, retryInMs ?? heldRetryMs));
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.wake();
      }, delay);
      this.retryTimer.unref();
    }
    return jobs;
  }

  private run(claimed: ClaimedJob): void {
    const entry = this.deps.catalog.get(claimed.worker);
    if (entry?.definition.chunk) {
      const opened = this.chunks.add(claimed, entry);
      if (opened) {
        this.active++;
        this.inFlight.add(opened);
        void opened.finally(() => this.inFlight.delete(opened));
      }
      return;
    }
    this.active++;
    this.deps.held.add(claimed.id);
    const task = executeJob(claimed, this.deps, this.deps.running).then(async ({ ack }) => {
      this.active--;
      this.unacked++;
      if (this.flowValue) this.finished.add(claimed.id);
      // Only a queue known to hold more work, or held back by a cluster-wide limit whose slot
      // this job frees, is worth a fetch per finished job.
      if (this.queueHasMore || this.heldBack) this.wakeSoon();
      await this.deps.acker.add(ack);
      this.finished.delete(claimed.id);
      this.deps.held.delete(claimed.id);
      this.unacked--;
      this.inFlight.delete(task);
      // A written outcome may lift the throttle on claims, or free a slot of a cluster-wide limit.
      if (this.queueHasMore || this.heldBack) this.wakeSoon();
    });
    this.inFlight.add(task);
  }

  /** Runs a gathered chunk, which held one slot, and writes each of its jobs' outcomes. */
  private async runChunk(jobs: ClaimedJob[], entry: RunnableWorker): Promise<void> {
    const attempts = await executeChunk(jobs, entry, this.deps, this.deps.running);
    this.active--;
    this.unacked += attempts.length;
    if (this.queueHasMore) this.wakeSoon();
    await Promise.all(attempts.map((attempt) => this.deps.acker.add(attempt.ack)));
    for (const job of jobs) this.deps.held.delete(job.id);
    this.unacked -= attempts.length;
    if (this.queueHasMore || this.heldBack) this.wakeSoon();
  }

  private wakeScheduled = false;

  /** Coalesces the wakes of jobs finishing in the same tick into one fetch. */
  private wakeSoon(): void {
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      this.wake();
    });
  }
}

import { KobanDatabaseError } from '../../sdk/errors.js';
import type { Engine } from '../engine/engine.js';
import type { Beat, NodeReport } from '../engine/nodes.js';
import { late, valueWithin } from './deadline.js';
import type { KobanLogger } from './logger.js';
import { Periodic } from './periodic.js';

/** The leader's lease, in heartbeat intervals: it renews it on every beat. */
const leaseBeats = 3;

export interface PeerOptions {
  readonly node: string;
  readonly queues: readonly string[];
  readonly interval: number;
  readonly rescueAfter: number;
  /** Milliseconds a beat may take before it is abandoned (cancelled in the server) and the next one goes out. */
  readonly beatTimeout: number;
  /** Called when this node becomes the leader or stops being it. */
  readonly onLeadership: (leader: boolean) => Promise<void>;
  readonly report: (error: unknown) => void;
  /** The first heartbeat that failed after one that reached the database: an outage begins. */
  readonly onOutage?: (error: unknown) => void;
  /** The first heartbeat that reached the database again, `downMs` after the outage began. */
  readonly onRecovery?: (downMs: number) => void;
  /** What the node runs now, recorded with each beat for the operator's view. */
  readonly describe?: () => NodeReport;
  readonly logger: Pick<KobanLogger, 'info' | 'warn'>;
}

/**
 * The node's peer, as Oban's Peer is: it records that the node is alive and which queues it
 * runs, and holds or claims leadership for the leader-only plugins. It starts with a first beat
 * before the node claims any job: the lifeline takes a job attempted by a node it has no record
 * of for an orphan. It stops last, after the jobs it vouches for have settled.
 */
export class Peer {
  private periodic: Periodic | undefined;
  private beaten = false;
  private leader = false;
  /** Date.now() of the last heartbeat that reached the database. */
  private lastBeatAt: number | undefined;
  /** performance.now() when the last heartbeat that reached the database was sent. */
  private lastBeatSent: number | undefined;
  /** The lifeline waits until then after this node lost the database: see beat(). */
  private rescueFrom = 0;
  /** Date.now() of the first failed heartbeat of an outage in progress. */
  private failingSince: number | undefined;
  /** Steps down when the lease this node holds runs out by its own clock: see holdLease(). */
  private leaseTimer: NodeJS.Timeout | undefined;
  /** The node row's `started_at` as this process set it; another value means another process took the name. */
  private startedAt: number | undefined;
  /** The `started_at` of the other process last warned about, to warn once per intruder. */
  private warnedAbout: number | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly options: PeerOptions,
  ) {}

  async start(): Promise<void> {
    await this.beat();
    // A restart under a stable name: the previous process's executing jobs are known orphans
    // now, not after its heartbeat lapses (rescueAfter) or the leader's next beat.
    const rescued = await this.engine.rescueRestarted(this.options.node);
    if (rescued > 0) {
      this.options.logger.info(
        `node ${this.options.node} restarted: ${rescued} job(s) its previous process left executing are available again`,
      );
    }
    this.periodic = new Periodic(this.options.interval, () => this.watchedBeat(), this.options.report);
    this.periodic.start(this.options.interval);
  }

  /**
   * Stops beating and leaves: gives up leadership, and forgets the node unless `keepNode`, which
   * leaves its row so that the jobs it still holds are rescued once its heartbeat has lapsed.
   */
  async stop({ keepNode }: { keepNode: boolean }): Promise<void> {
    await this.periodic?.stop();
    this.periodic = undefined;
    clearTimeout(this.leaseTimer);
    const { node } = this.options;
    if (this.leader) {
      this.leader = false;
      await this.options.onLeadership(false);
      await this.engine.resignLeadership(node).catch(() => undefined);
    }
    if (!keepNode) await this.engine.removeNode(node).catch(() => undefined);
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /**
   * Milliseconds, by this node's monotonic clock, since the last heartbeat that reached the
   * database was sent: the database has heard nothing newer from this node.
   */
  silentFor(): number {
    return this.lastBeatSent === undefined ? 0 : performance.now() - this.lastBeatSent;
  }

  /** Beats now, after a beat in progress; rejects if the beat fails. */
  beatNow(): Promise<void> {
    return this.periodic ? this.periodic.runNow() : this.beat();
  }

  /**
   * Whether the lifeline may take silent nodes for dead now. Beats this node missed because the
   * database was away, every node missed: the others get a `rescueAfter` to beat again before
   * any of them is taken for dead and its jobs run twice. Until this node's own beats reach the
   * database again, it cannot tell such an outage from dead nodes, so it rescues nothing: the
   * lifeline's timer may fire before the first beat after an outage does.
   */
  get mayRescue(): boolean {
    const now = Date.now();
    const beating = this.lastBeatAt !== undefined && now - this.lastBeatAt <= 2 * this.options.interval;
    return beating && now >= this.rescueFrom;
  }

  /** A beat that tells when the database stops and starts answering heartbeats. */
  private async watchedBeat(): Promise<void> {
    try {
      await this.beat();
    } catch (error) {
      if (this.failingSince === undefined) {
        this.failingSince = Date.now();
        this.options.onOutage?.(error);
      }
      throw error;
    }
    if (this.failingSince !== undefined) {
      const downMs = Date.now() - this.failingSince;
      this.failingSince = undefined;
      this.options.onRecovery?.(downMs);
    }
  }

  /**
   * Each process must have its own node name: a second live process that starts under this one's
   * name restarts the name's clock, and the lifeline takes the jobs this process runs for orphans
   * of a dead one and runs them again. Its first beat says so, and this process warns.
   */
  private checkName({ startedAt, created }: Beat): void {
    if (this.startedAt === undefined || created) {
      this.startedAt = startedAt; // the first beat, or a row the lifeline forgot while this node was away
      return;
    }
    if (startedAt === this.startedAt || startedAt === this.warnedAbout) return;
    this.warnedAbout = startedAt;
    this.options.logger.warn(
      `node name "${this.options.node}" is used by another live process too (it started at ` +
        `${new Date(startedAt).toISOString()}): the lifeline will take this process's running jobs for ` +
        'orphans and run them again. Give every process its own name (the pod name, the container host name).',
    );
  }

  private async beat(): Promise<void> {
    const { node, queues, interval, rescueAfter } = this.options;
    const sent = performance.now();
    // The lease is renewed beside the heartbeat, not after it: the sooner it is written, the
    // less of it a slow beat uses up.
    // A beat that never answers (a lock, a pooler with no connection to spare, a half-open
    // connection) would stop this node's beats for good, and the leader would run its jobs again.
    const abandon = new AbortController();
    const answered = await valueWithin(
      Promise.all([
        this.engine.beat(node, queues, !this.beaten, this.options.describe?.(), abandon.signal),
        this.engine.claimLeadership(node, interval * leaseBeats, abandon.signal),
      ]),
      this.options.beatTimeout,
    );
    if (answered === late) {
      abandon.abort();
      throw new KobanDatabaseError(
        `a heartbeat of node ${node} got no answer within ${this.options.beatTimeout} ms: abandoned, the next one goes out`,
      );
    }
    const [beat, held] = answered;
    this.checkName(beat);
    const now = Date.now();
    if (this.lastBeatAt !== undefined && now - this.lastBeatAt > 2 * interval)
      this.rescueFrom = now + rescueAfter;
    this.lastBeatAt = now;
    this.lastBeatSent = Math.max(sent, this.lastBeatSent ?? sent);
    this.beaten = true;
    // The lease runs from when the database wrote it, which is after `sent`: by this node's
    // monotonic clock it surely lasts until `sent` plus its length. The node leads only until
    // half a beat before then, so that its leader-only plugins have stopped before another node
    // can take the lease over, however long a renewal hangs.
    const leadUntil = sent + interval * (leaseBeats - 0.5);
    const leader = held && performance.now() < leadUntil;
    if (leader) this.holdLease(leadUntil);
    await this.lead(leader);
  }

  private holdLease(until: number): void {
    clearTimeout(this.leaseTimer);
    this.leaseTimer = setTimeout(
      () => void this.lead(false).catch((error) => this.options.report(error)),
      until - performance.now(),
    );
    this.leaseTimer.unref();
  }

  private async lead(leader: boolean): Promise<void> {
    if (!leader) clearTimeout(this.leaseTimer);
    if (leader === this.leader) return;
    this.leader = leader;
    await this.options.onLeadership(leader);
  }
}

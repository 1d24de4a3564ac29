import type { StoredCronEntry } from '../engine/cron-entries.js';
import type { Engine } from '../engine/engine.js';
import type { KobanLogger } from '../node/logger.js';
import type { WorkerCatalog } from '../workers/worker-catalog.js';
import { storedCronJob } from './cron-job.js';
import { CronSchedule } from './cron-schedule.js';
import type { KobanPlugin, PluginContext } from './plugin.js';

interface Scheduled {
  readonly stored: StoredCronEntry;
  readonly schedule: CronSchedule;
  next: Date | null;
}

/**
 * Runs the cron entries stored in the database (`koban.cron`) on every node. It reads them at
 * start, when a change is signalled, and every `syncInterval` as a net for a lost signal. Each
 * tick is claimed in the transaction that inserts its job (cron-entries.ts `claimCronTick`), so
 * it is inserted once across all nodes. A guaranteed entry that missed ticks while no node ran
 * (an outage, a deploy) inserts the newest missed one when a node next reads it.
 */
export class StoredCronScheduler implements KobanPlugin {
  readonly name = 'stored cron';
  private entries = new Map<string, Scheduled>();
  private fireTimer: NodeJS.Timeout | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private stopped = true;
  private work: Promise<void> = Promise.resolve();
  private engine: Engine | undefined;
  private report: (error: unknown) => void = () => {};
  private logger: KobanLogger | undefined;
  private readonly unknownWorkers = new Set<string>();

  constructor(
    private readonly deps: {
      readonly catalog: WorkerCatalog;
      readonly syncInterval: number;
      readonly now?: () => Date;
    },
  ) {}

  start(context: PluginContext): void {
    this.engine = context.engine;
    this.logger = context.logger;
    this.report = (error) => context.reportError(error);
    this.stopped = false;
    this.refresh();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.fireTimer);
    clearTimeout(this.syncTimer);
    await this.work;
  }

  /** Reads the entries again soon: a change was signalled. */
  refresh(): void {
    this.enqueue(() => this.sync());
  }

  /** Serialises reads and fires, and reports their failures. */
  private enqueue(task: () => Promise<void>): void {
    if (this.stopped) return;
    this.work = this.work
      .then(() => (this.stopped ? undefined : task()))
      .catch((error) => this.report(error))
      .finally(() => this.arm());
  }

  private async sync(): Promise<void> {
    const rows = await this.engine!.listCronEntries();
    const now = this.now();
    const entries = new Map<string, Scheduled>();
    const catchUps: [Scheduled, Date][] = [];
    for (const stored of rows) {
      const known = this.entries.get(stored.name);
      if (known && known.stored.updatedAt.getTime() === stored.updatedAt.getTime()) {
        entries.set(stored.name, { ...known, stored });
        continue;
      }
      let schedule: CronSchedule;
      try {
        schedule = new CronSchedule(stored.expression, stored.timezone);
      } catch (error) {
        this.report(new Error(`cron entry ${JSON.stringify(stored.name)}: ${(error as Error).message}`));
        continue;
      }
      const scheduled = { stored, schedule, next: stored.paused ? null : schedule.next(now) };
      entries.set(stored.name, scheduled);
      if (stored.guaranteed && !stored.paused) {
        const missed = schedule.latest(now);
        const since = Math.max(stored.lastTick?.getTime() ?? 0, stored.changedAt.getTime());
        if (missed && missed.getTime() > since) catchUps.push([scheduled, missed]);
      }
    }
    this.entries = entries;
    for (const [scheduled, tick] of catchUps) await this.insertTick(scheduled, tick);
    this.armSync();
  }

  private async fire(): Promise<void> {
    const now = this.now();
    for (const scheduled of this.entries.values()) {
      if (!scheduled.next || scheduled.next > now) continue;
      const tick = scheduled.next;
      scheduled.next = scheduled.schedule.next(now);
      try {
        await this.insertTick(scheduled, tick);
      } catch (error) {
        this.report(error);
      }
    }
  }

  /** Claims a tick and inserts its job, in one transaction; returns whether this node did. */
  private async insertTick(scheduled: Scheduled, tick: Date): Promise<boolean> {
    const { stored } = scheduled;
    const row = await storedCronJob(
      this.deps.catalog,
      stored,
      { cron: stored.name, cronTick: tick.toISOString() },
      tick,
    );
    if (!row) {
      if (!this.unknownWorkers.has(stored.name)) {
        this.unknownWorkers.add(stored.name);
        this.logger?.warn(
          `cron entry ${JSON.stringify(stored.name)}: this process defines no worker "${stored.worker}"; nodes that do insert its jobs`,
        );
      }
      return false;
    }
    const engine = this.engine!;
    return engine.transaction(async (tx) => {
      if (!(await engine.claimCronTick(stored.name, tick, tx))) return false;
      const [job] = await engine.insert({ rows: [row] }, tx);
      return job !== undefined && !job.conflict;
    });
  }

  private arm(): void {
    clearTimeout(this.fireTimer);
    if (this.stopped) return;
    let soonest = Number.POSITIVE_INFINITY;
    for (const scheduled of this.entries.values()) {
      if (scheduled.next) soonest = Math.min(soonest, scheduled.next.getTime());
    }
    if (!Number.isFinite(soonest)) return;
    // Timers may fire a little early and long delays overflow setTimeout: cap and re-check.
    const delay = Math.min(Math.max(soonest - this.now().getTime(), 0), 60_000);
    this.fireTimer = setTimeout(() => this.enqueue(() => this.fire()), delay);
    this.fireTimer.unref();
  }

  private armSync(): void {
    clearTimeout(this.syncTimer);
    if (this.stopped) return;
    this.syncTimer = setTimeout(() => this.refresh(), this.deps.syncInterval);
    this.syncTimer.unref();
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }
}

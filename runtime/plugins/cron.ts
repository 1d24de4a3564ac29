import { Cron } from 'croner';
import { KobanConfigError } from '../../sdk/errors.js';
import { newJob } from '../../sdk/job-spec.js';
import type { WorkerClass } from '../../sdk/worker.js';
import type { CronEntry } from '../config.js';
import type { Database } from '../database.js';
import type { KobanEventEmitter } from '../events.js';
import { insertRows } from '../insert.js';
import { prepareJob } from '../prepare-job.js';
import type { WorkerCatalog } from '../worker-catalog.js';

const allStates = 0xff;

interface ScheduledEntry {
  readonly entry: CronEntry;
  readonly name: string;
  readonly schedule: Cron;
  next: Date | null;
}

/**
 * Inserts cron jobs on every node, each tick keyed `cron:<name>:<tick>` in the unique index, so
 * that the job of a tick exists once however many nodes fire it and whoever is leader.
 */
export class CronScheduler {
  private readonly entries: ScheduledEntry[];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private firing: Promise<void> = Promise.resolve();

  constructor(
    entries: readonly CronEntry[],
    private readonly deps: {
      database: Database;
      schema: string;
      catalog: WorkerCatalog;
      events: KobanEventEmitter;
      now?: () => Date;
    },
  ) {
    this.entries = entries.map((entry, index) => {
      const where = `cron[${index}]`;
      let schedule: Cron;
      try {
        schedule = new Cron(entry.expression, { timezone: entry.timezone, paused: true });
        // A paused schedule checks its time zone only when asked for a run: ask now.
        schedule.nextRun();
      } catch (error) {
        throw new KobanConfigError(
          `${where}: invalid cron expression ${JSON.stringify(entry.expression)}${entry.timezone ? ` or timezone ${JSON.stringify(entry.timezone)}` : ''}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      const worker = deps.catalog.forClass(workerClassOf(entry));
      return {
        entry,
        name: entry.name ?? `${worker.definition.name}@${entry.expression}`,
        schedule,
        next: null,
      };
    });
  }

  start(): void {
    const now = this.now();
    for (const scheduled of this.entries) scheduled.next = scheduled.schedule.nextRun(now);
    this.arm();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.firing;
  }

  /** Inserts the job of every entry whose tick is due at `now`; returns the jobs inserted. */
  async fire(now: Date): Promise<number> {
    let inserted = 0;
    for (const scheduled of this.entries) {
      if (!scheduled.next || scheduled.next > now) continue;
      const tick = scheduled.next;
      scheduled.next = scheduled.schedule.nextRun(now);
      inserted += await this.insertTick(scheduled, tick);
    }
    return inserted;
  }

  async insertTick(scheduled: ScheduledEntry, tick: Date): Promise<number> {
    const { entry } = scheduled;
    const row = prepareJob(newJob(workerClassOf(entry), entry.args ?? {}), {}, this.deps.catalog);
    const [job] = await insertRows(this.deps.database, this.deps.schema, [
      {
        ...row,
        meta: { ...row.meta, cron: scheduled.name, cronTick: tick.toISOString() },
        uniqueKey: `cron:${scheduled.name}:${tick.toISOString()}`,
        uniqueStates: allStates,
        // The tick's key is held for good, whatever unique options the worker has.
        uniquePeriod: null,
        uniqueReplace: undefined,
      },
    ]);
    return job && !job.conflict ? 1 : 0;
  }

  private arm(): void {
    if (this.stopped) return;
    const upcoming = this.entries.map((scheduled) => scheduled.next?.getTime() ?? Number.POSITIVE_INFINITY);
    const soonest = Math.min(...upcoming);
    if (!Number.isFinite(soonest)) return;
    // Timers may fire a little early and long delays overflow setTimeout: cap and re-check.
    const delay = Math.min(Math.max(soonest - this.now().getTime(), 0), 60_000);
    this.timer = setTimeout(() => {
      this.firing = this.fire(this.now())
        .then(() => undefined)
        .catch((error) => this.deps.events.emit('error', { source: 'cron', error }))
        .finally(() => this.arm());
    }, delay);
    this.timer.unref();
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }
}

function workerClassOf(entry: CronEntry): WorkerClass {
  return typeof entry.worker === 'function' ? entry.worker : entry.worker.worker;
}

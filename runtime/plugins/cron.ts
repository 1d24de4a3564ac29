import { Cron } from 'croner';
import { KobanConfigError } from '../../sdk/errors.js';
import { type JobOptions, newJob } from '../../sdk/job-spec.js';
import { getWorkerDefinition } from '../../sdk/registry.js';
import { jobStates, stateMask } from '../../sdk/states.js';
import type { WorkerClass } from '../../sdk/worker.js';
import type { CronEntry } from '../config.js';
import type { Engine } from '../engine/engine.js';
import { prepareJobs } from '../workers/prepare-job.js';
import type { WorkerCatalog } from '../workers/worker-catalog.js';
import { rebootExpression } from './cron-schedule.js';
import type { KobanPlugin, PluginContext } from './plugin.js';

const allStates = stateMask(jobStates);

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
export class CronScheduler implements KobanPlugin {
  readonly name = 'cron';
  private readonly entries: ScheduledEntry[];
  /** Every entry by name, @reboot ones too: what an operator may run now. */
  private readonly runnable: Map<string, { readonly entry: CronEntry; readonly name: string }>;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private firing: Promise<void> = Promise.resolve();
  private report: (error: unknown) => void = () => {};
  private engine: Engine | undefined;

  constructor(
    entries: readonly CronEntry[],
    private readonly deps: {
      catalog: WorkerCatalog;
      now?: () => Date;
    },
  ) {
    this.runnable = new Map(
      entries.map((entry) => [cronEntryName(entry), { entry, name: cronEntryName(entry) }]),
    );
    this.entries = entries.flatMap((entry, index) => {
      // A @reboot entry has no schedule: the reboot plugin inserts its job when its node first leads.
      if (entry.expression.trim() === rebootExpression) return [];
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
      return [{ entry, name: cronEntryName(entry), schedule, next: null }];
    });
  }

  start(context: PluginContext): void {
    this.report = (error) => context.reportError(error);
    this.engine = context.engine;
    this.stopped = false;
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

  /** Inserts a tick's job, unless an operator paused the entry (a pause is kept in the database, by name). */
  async insertTick(scheduled: ScheduledEntry, tick: Date): Promise<number> {
    if (await this.engine!.cronPaused(scheduled.name)) return 0;
    return this.insertJob(scheduled, tick.toISOString(), tick.toISOString());
  }

  /**
   * Inserts the job of an entry now, for an operator's `run` of request `request`: every node with
   * the entry hears it, and the request's unique key lets one job in. False without the entry.
   */
  async runNow(name: string, request: string): Promise<boolean> {
    const scheduled = this.runnable.get(name);
    if (!scheduled || !this.engine) return false;
    await this.insertJob(scheduled, 'manual', `manual:${request}`);
    return true;
  }

  private async insertJob(
    scheduled: { readonly entry: CronEntry; readonly name: string },
    tick: string,
    key: string,
  ): Promise<number> {
    const { entry } = scheduled;
    const [row] = await prepareJobs(this.deps.catalog, [
      newJob(workerClassOf(entry), entry.args ?? {}, cronJobOptions(entry)),
    ]);
    const [job] = await this.engine!.insert({
      rows: [
        {
          ...row!,
          meta: { ...row!.meta, cron: scheduled.name, cronTick: tick },
          uniqueKey: `cron:${scheduled.name}:${key}`,
          uniqueStates: allStates,
          // The tick's key is held for good, whatever unique options the worker has.
          uniquePeriod: null,
          uniqueReplace: undefined,
        },
      ],
    });
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
        .catch((error) => this.report(error))
        .finally(() => this.arm());
    }, delay);
    this.timer.unref();
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }
}

/** The job options an entry of `Koban.start({ cron })` gives its jobs, over the worker's. */
export function cronJobOptions(entry: CronEntry): JobOptions {
  const { queue, priority, maxAttempts, tags, meta } = entry;
  return { queue, priority, maxAttempts, tags, meta };
}

/** The name of an entry of `Koban.start({ cron })`: its own, or the worker's name and expression. */
export function cronEntryName(entry: CronEntry): string {
  return entry.name ?? `${getWorkerDefinition(workerClassOf(entry)).name}@${entry.expression}`;
}

export function workerClassOf(entry: CronEntry): WorkerClass {
  return typeof entry.worker === 'function' ? entry.worker : entry.worker.worker;
}

/** The name of the worker an entry of `Koban.start({ cron })` runs. */
export function cronWorkerName(entry: CronEntry): string {
  return getWorkerDefinition(workerClassOf(entry)).name;
}

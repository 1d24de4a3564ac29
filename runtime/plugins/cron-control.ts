import type { Codec } from '../../sdk/codec.js';
import { KobanValidationError } from '../../sdk/errors.js';
import type { JsonObject } from '../../sdk/job.js';
import { type JobOptions, newJob } from '../../sdk/job-spec.js';
import { getWorkerDefinition } from '../../sdk/registry.js';
import type { ArgsOf, WorkerClass } from '../../sdk/worker.js';
import type { CronEntry, CronWorker, CronWorkerClass } from '../config.js';
import { cronBinding } from '../engine/args-binding.js';
import type { CronJobOptions, StoredCronEntry } from '../engine/cron-entries.js';
import type { Engine } from '../engine/engine.js';
import type { InsertedJob, InsertRow } from '../engine/insert.js';
import { prepareJob, prepareJobs } from '../workers/prepare-job.js';
import { readableArgs } from '../workers/stored-args.js';
import type { WorkerCatalog } from '../workers/worker-catalog.js';
import { cronEntryName, cronJobOptions, workerClassOf } from './cron.js';
import { storedCronJob } from './cron-job.js';
import { CronSchedule, scheduleProblem } from './cron-schedule.js';

/** The job options a cron entry may set over its worker's: queue, priority, attempts, tags, meta. */
export interface CronJobSettings {
  queue?: string | undefined;
  priority?: number | undefined;
  maxAttempts?: number | undefined;
  tags?: readonly string[] | undefined;
  meta?: JsonObject | undefined;
}

/** A cron entry to store with `koban.cron.insert`; `args` are typed from the worker. */
export interface StoredCronInput<T extends CronWorker = CronWorker> extends CronJobSettings {
  /** Identifies the entry: what `update`, `pause`, `delete` and `run` take. */
  name: string;
  /** A cron expression (5 fields, or 6 with seconds), a nickname like `@hourly`, or `@reboot`. */
  expression: string;
  worker: T;
  args?: ArgsOf<CronWorkerClass<T>> | undefined;
  /** An IANA zone such as `Europe/Paris`. Default UTC. */
  timezone?: string | undefined;
  /** Stored paused: no tick fires until `resume`. Default false. */
  paused?: boolean | undefined;
  /** After an outage, insert the newest tick that no node was up to insert. Default false. */
  guaranteed?: boolean | undefined;
}

/** What `koban.cron.update` may change; a field left out keeps its value, `timezone: null` is UTC. */
export type StoredCronChanges<T extends CronWorker = CronWorker> = Partial<
  Omit<StoredCronInput<T>, 'name' | 'timezone'>
> & { timezone?: string | null | undefined };

/** A cron entry as `koban.cron.list()` shows it. */
export interface CronEntryInfo {
  readonly name: string;
  /** `database`: stored, changed with `koban.cron`; `config`: from `Koban.start({ cron })`, read only. */
  readonly source: 'database' | 'config';
  readonly expression: string;
  readonly timezone: string | null;
  /** The worker's stored name. */
  readonly worker: string;
  /** The args as the jobs get them (opened where this process has an encrypted worker's keys). */
  readonly args: JsonObject;
  readonly options: CronJobOptions;
  readonly paused: boolean;
  readonly guaranteed: boolean;
  /** The newest tick whose job was inserted (stored entries). */
  readonly lastTick: Date | null;
  /** The next tick from now; null when paused or `@reboot`. */
  readonly nextTick: Date | null;
  readonly insertedAt: Date | null;
  readonly updatedAt: Date | null;
}

type GivenWorker = WorkerClass | { readonly worker: WorkerClass; readonly codec?: Codec<unknown> };

/**
 * `koban.cron`: cron entries stored in the database and changed at run time, as Oban Pro's
 * DynamicCron. Every change is signalled to every node, which reads the entries again; the
 * entries of `Koban.start({ cron })` are listed too, and may be run, paused and resumed, but
 * change otherwise only with the configuration.
 */
export class CronControl {
  constructor(
    private readonly engine: Engine,
    private readonly catalog: WorkerCatalog,
    private readonly configEntries: readonly CronEntry[],
    private readonly changed: () => Promise<void>,
  ) {}

  /** Stores a new entry; its first tick fires on every node's next read (at once, by signal). */
  async insert<const T extends CronWorker>(entry: StoredCronInput<T>): Promise<CronEntryInfo> {
    const where = 'cron.insert';
    if (typeof entry !== 'object' || entry === null) {
      throw invalid(where, 'entry', `expected an object, got ${JSON.stringify(entry)}`);
    }
    const name = this.checkName(entry.name, where);
    const timezone = entry.timezone ?? null;
    const problem = scheduleProblem(entry.expression, timezone);
    if (problem) throw invalid(where, 'expression', problem);
    const given = entry.worker as unknown as GivenWorker;
    if (typeof given !== 'function' && typeof given?.worker !== 'function') {
      throw invalid(
        where,
        'worker',
        `expected a worker class or its generated builder, got ${String(given)}`,
      );
    }
    const options = settingsOf(entry);
    const row = await this.checkJob(given, entry.args ?? {}, options, `${where}(${JSON.stringify(name)})`);
    const stored = await this.engine.insertCronEntry({
      name,
      expression: entry.expression.trim(),
      timezone,
      worker: row.worker,
      args: row.seal ? row.seal(cronBinding(name)) : row.args,
      options,
      paused: flag(entry.paused, 'paused', where),
      guaranteed: flag(entry.guaranteed, 'guaranteed', where),
    });
    if (!stored) {
      throw invalid(
        where,
        'name',
        `a cron entry named ${JSON.stringify(name)} exists: change it with koban.cron.update`,
      );
    }
    await this.changed();
    return this.info(stored);
  }

  /** Changes the given fields of a stored entry. */
  async update<const T extends CronWorker = CronWorker>(
    name: string,
    changes: StoredCronChanges<T>,
  ): Promise<CronEntryInfo> {
    const where = `cron.update(${JSON.stringify(name)})`;
    const current = await this.stored(name, where);
    if (typeof changes !== 'object' || changes === null) {
      throw invalid(where, 'changes', `expected an object, got ${JSON.stringify(changes)}`);
    }
    const expression = changes.expression ?? current.expression;
    const timezone = changes.timezone === undefined ? current.timezone : changes.timezone;
    const problem = scheduleProblem(expression, timezone);
    if (problem) throw invalid(where, changes.expression === undefined ? 'timezone' : 'expression', problem);
    const options = { ...current.options, ...settingsOf(changes) };
    let worker: GivenWorker | undefined = changes.worker as unknown as GivenWorker | undefined;
    let args: unknown = changes.args;
    if (worker === undefined || args === undefined) {
      const known = await this.catalog.entryForName(current.worker);
      if (!known) {
        throw invalid(
          where,
          'worker',
          `this process defines no worker "${current.worker}", so the entry's job cannot be checked: give worker and args`,
        );
      }
      worker ??= known.worker;
      if (args === undefined) {
        const opened = readableArgs(known, current.args, cronBinding(current.name));
        args = known.args ? known.args.decode(opened) : opened;
      }
    }
    const row = await this.checkJob(worker, args, options, where);
    const stored = await this.engine.updateCronEntry(current.name, {
      ...(changes.expression === undefined ? {} : { expression: expression.trim() }),
      ...(changes.timezone === undefined ? {} : { timezone }),
      worker: row.worker,
      args: row.seal ? row.seal(cronBinding(current.name)) : row.args,
      options,
      ...(changes.paused === undefined ? {} : { paused: flag(changes.paused, 'paused', where) }),
      ...(changes.guaranteed === undefined
        ? {}
        : { guaranteed: flag(changes.guaranteed, 'guaranteed', where) }),
    });
    if (!stored) throw invalid(where, 'name', `no cron entry named ${JSON.stringify(name)}: it was deleted`);
    await this.changed();
    return this.info(stored);
  }

  /**
   * Stops an entry's ticks on every node until `resume`: a stored entry, or one of
   * `Koban.start({ cron })` (its pause is kept in the database by name, so it holds on every node).
   */
  pause(name: string): Promise<CronEntryInfo> {
    return this.setPaused(name, true, 'cron.pause');
  }

  /** Starts an entry's ticks again from the next one; a guaranteed entry catches up none from the pause. */
  resume(name: string): Promise<CronEntryInfo> {
    return this.setPaused(name, false, 'cron.resume');
  }

  /** Deletes a stored entry; false when there was none. Its jobs already inserted stay. */
  async delete(name: string): Promise<boolean> {
    const where = `cron.delete(${JSON.stringify(name)})`;
    this.refuseConfigEntry(name, where);
    const deleted = await this.engine.deleteCronEntry(checkNameValue(name, where));
    if (deleted) await this.changed();
    return deleted;
  }

  /** Inserts an entry's job now, outside its schedule (a stored or a configured entry, paused or not). */
  async run(name: string): Promise<InsertedJob> {
    const where = `cron.run(${JSON.stringify(name)})`;
    const meta = { cron: name, cronTick: 'manual' };
    const configured = this.configEntries.find((entry) => cronEntryName(entry) === name);
    let row: InsertRow | undefined;
    if (configured) {
      const options = cronJobOptions(configured);
      [row] = await prepareJobs(this.catalog, [
        newJob(workerClassOf(configured), configured.args ?? {}, {
          ...options,
          meta: { ...options.meta, ...meta },
        }),
      ]);
    } else {
      const stored = await this.stored(name, where);
      row = await storedCronJob(this.catalog, stored, meta);
      if (!row)
        throw invalid(
          where,
          'worker',
          `this process defines no worker "${stored.worker}" to build the job with`,
        );
    }
    const [job] = await this.engine.insert({ rows: [row!] });
    return (await this.engine.inserted([job!], undefined))[0]!;
  }

  /** Every entry, stored and configured, by name. */
  async list(): Promise<CronEntryInfo[]> {
    const stored = await Promise.all((await this.engine.listCronEntries()).map((entry) => this.info(entry)));
    const paused = this.configEntries.length > 0 ? await this.engine.pausedCronNames() : new Set<string>();
    const configured = this.configEntries.map((entry) => configInfo(entry, paused.has(cronEntryName(entry))));
    return [...stored, ...configured].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** One entry by name; null when there is none. */
  async get(name: string): Promise<CronEntryInfo | null> {
    return (await this.list()).find((entry) => entry.name === name) ?? null;
  }

  private async setPaused(name: string, paused: boolean, verb: string): Promise<CronEntryInfo> {
    const where = `${verb}(${JSON.stringify(name)})`;
    const configured = this.configEntries.find((entry) => cronEntryName(entry) === name);
    if (configured) {
      // A configured entry's pause is kept by name, for every node that has the entry.
      await this.engine.setCronPaused(name, paused);
      await this.changed();
      return configInfo(configured, paused);
    }
    await this.stored(name, where);
    const stored = await this.engine.updateCronEntry(name, { paused });
    if (!stored) throw invalid(where, 'name', `no cron entry named ${JSON.stringify(name)}: it was deleted`);
    await this.changed();
    return this.info(stored);
  }

  private async stored(name: string, where: string): Promise<StoredCronEntry> {
    this.refuseConfigEntry(name, where);
    checkNameValue(name, where);
    const found = (await this.engine.listCronEntries()).find((entry) => entry.name === name);
    if (!found) {
      throw invalid(
        where,
        'name',
        `no cron entry named ${JSON.stringify(name)}; koban.cron.list() shows them`,
      );
    }
    return found;
  }

  private checkName(name: unknown, where: string): string {
    const checked = checkNameValue(name, where);
    if (this.configEntries.some((entry) => cronEntryName(entry) === checked)) {
      throw invalid(
        where,
        'name',
        `${JSON.stringify(checked)} is an entry of Koban.start({ cron }): pick another name`,
      );
    }
    return checked;
  }

  private refuseConfigEntry(name: string, where: string): void {
    if (this.configEntries.some((entry) => cronEntryName(entry) === name)) {
      throw invalid(
        where,
        'name',
        `${JSON.stringify(name)} is an entry of Koban.start({ cron }): change it there`,
      );
    }
  }

  /** Builds the job an entry would insert, as an insert checks it; throws what is wrong. */
  private async checkJob(given: GivenWorker, args: unknown, options: CronJobOptions, where: string) {
    const worker = typeof given === 'function' ? given : given.worker;
    const codec = typeof given === 'function' ? undefined : given.codec;
    const entry = await this.catalog.entryFor(worker);
    try {
      return prepareJob(newJob(worker, args as never, options as JobOptions, codec as never), {}, entry);
    } catch (error) {
      if (error instanceof KobanValidationError) {
        throw new KobanValidationError(
          error.issues.map((issue) => ({ ...issue, path: `${where}: ${issue.path}` })),
          error.worker,
        );
      }
      throw error;
    }
  }

  private async info(stored: StoredCronEntry): Promise<CronEntryInfo> {
    const entry = await this.catalog.entryForName(stored.worker);
    let args: JsonObject;
    try {
      args = readableArgs(entry, stored.args, cronBinding(stored.name)) as JsonObject;
    } catch {
      args = stored.args as unknown as JsonObject;
    }
    const schedule = new CronSchedule(stored.expression, stored.timezone);
    return {
      name: stored.name,
      source: 'database',
      expression: stored.expression,
      timezone: stored.timezone,
      worker: stored.worker,
      args,
      options: stored.options,
      paused: stored.paused,
      guaranteed: stored.guaranteed,
      lastTick: stored.lastTick,
      nextTick: stored.paused ? null : schedule.next(new Date()),
      insertedAt: stored.insertedAt,
      updatedAt: stored.updatedAt,
    };
  }
}

function configInfo(entry: CronEntry, paused: boolean): CronEntryInfo {
  const { queue, priority, maxAttempts, tags, meta } = entry;
  const options = Object.fromEntries(
    Object.entries({ queue, priority, maxAttempts, tags, meta }).filter(([, value]) => value !== undefined),
  ) as CronJobOptions;
  return {
    name: cronEntryName(entry),
    source: 'config',
    expression: entry.expression,
    timezone: entry.timezone ?? null,
    worker: getWorkerDefinition(workerClassOf(entry)).name,
    args: (entry.args ?? {}) as JsonObject,
    options,
    paused,
    guaranteed: false,
    lastTick: null,
    nextTick: paused ? null : new CronSchedule(entry.expression, entry.timezone).next(new Date()),
    insertedAt: null,
    updatedAt: null,
  };
}

/** The job options given, without those left undefined. */
function settingsOf(given: CronJobSettings): CronJobOptions {
  const { queue, priority, maxAttempts, tags, meta } = given;
  return Object.fromEntries(
    Object.entries({ queue, priority, maxAttempts, tags, meta }).filter(([, value]) => value !== undefined),
  ) as CronJobOptions;
}

function checkNameValue(name: unknown, where: string): string {
  if (typeof name !== 'string' || name.trim() === '' || [...name].length > 255) {
    throw invalid(
      where,
      'name',
      `expected a non-empty string of at most 255 characters, got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

function flag(value: unknown, option: string, where: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean')
    throw invalid(where, option, `expected true or false, got ${JSON.stringify(value)}`);
  return value;
}

function invalid(where: string, path: string, message: string): KobanValidationError {
  return new KobanValidationError([{ path: `${where}: ${path}`, message }]);
}

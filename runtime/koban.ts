import { KobanShutdownError } from '../sdk/errors.js';
import type { JobRecord } from '../sdk/job.js';
import type { JobOptions, JobSpec } from '../sdk/job-spec.js';
import type { FetchRecordedOptions, RecordedJobRef, RecordedReader, RecordedValue } from '../sdk/recorded.js';
import { checkQueueName } from '../sdk/worker-options.js';
import { Acker } from './acker.js';
import { type CronWorker, type KobanConfig, type ResolvedConfig, resolveConfig } from './config.js';
import { checkCronArgs } from './cron-args.js';
import { Database, type DrizzleDatabase, type Executor } from './database.js';
import { KobanEventEmitter, type KobanEvents } from './events.js';
import type { RunningJob } from './executor.js';
import { staleGeneratedWarning, staleGeneratedWorkers } from './generated-contracts.js';
import { type KobanHooks, ProcessHooks } from './hooks.js';
import { type InsertedJob, insertRows } from './insert.js';
import { type InsertAllOptions, insertAll, type JobSource } from './insert-all.js';
import { cancelJobs, deleteJobs, retryJobs } from './job-commands.js';
import { getJob, type JobFilter, type JobId, type JobSelection, listJobs } from './job-queries.js';
import { type MigrationResult, migrate, verifySchema } from './migrator.js';
import { defaultNodeName } from './node-name.js';
import { NodeServices } from './node-services.js';
import { prepareJob } from './prepare-job.js';
import { Producer } from './producer.js';
import { readQueueStates, type Signal, signal, storeQueueState } from './queue-state.js';
import { fetchRecorded } from './recorded.js';
import { type KobanTables, kobanTables } from './schema.js';
import { defaultShutdownSignals, onShutdownSignals } from './shutdown-signals.js';
import { WorkerCatalog } from './worker-catalog.js';
import { prepareCatalog, prepareSpecs } from './worker-features.js';

/** The key of the pieces koban/testing needs; not part of the public API. */
export const kobanInternals = Symbol('koban.internals');

/** How long stop() waits for aborted jobs to settle after the grace period. */
const abortSettleMs = 1000;

export interface InsertOptions<Args = any> extends JobOptions<Args> {
  /** An application transaction (Drizzle) to insert in: the job exists only if it commits. */
  tx?: Executor;
}

export interface QueueStatus {
  readonly queue: string;
  readonly limit: number;
  readonly running: number;
  readonly paused: boolean;
}

/**
 * A Koban node: it inserts jobs and, for the queues it is given, runs them. Start one per process
 * with `Koban.start`, and `stop()` it on shutdown.
 */
export class Koban implements RecordedReader {
  /** The Drizzle tables of this instance's schema, for custom queries. */
  readonly tables: KobanTables;
  private readonly processHooks = new ProcessHooks();
  private readonly events = new KobanEventEmitter();
  private readonly producers = new Map<string, Producer>();
  private readonly running = new Map<string, RunningJob>();
  private readonly acker: Acker;
  private readonly services: NodeServices;
  private unlisteners: (() => Promise<void>)[] = [];
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly database: Database,
    private readonly config: ResolvedConfig,
    readonly catalog: WorkerCatalog,
  ) {
    this.tables = kobanTables(config.schema);
    this.acker = new Acker(database, config.schema, this.events);
    this.services = new NodeServices(database, config, catalog, this.events);
  }

  /** Connects, migrates (unless `migrate: false`), and starts the configured queues. */
  static async start<const CronWorkers extends readonly CronWorker[] = readonly CronWorker[]>(
    options: KobanConfig<CronWorkers> = {},
  ): Promise<Koban> {
    const config = resolveConfig(options, defaultNodeName());
    const catalog = new WorkerCatalog(options.workers);
    const stale = staleGeneratedWorkers(options.workers);
    if (stale.length > 0) config.logger.warn(staleGeneratedWarning(stale));
    // Bad keys and Pro options fail here, before anything connects.
    await prepareCatalog(catalog);
    checkCronArgs(config.cron, catalog);
    const database = await Database.open(options.database, {
      dataDir: options.dataDir,
      poolSize: options.poolSize,
      schema: config.schema,
    });
    let koban: Koban | undefined;
    try {
      if (config.migrate) {
        await migrate(database, config.schema);
        await database.migrated(config.schema);
      } else await verifySchema(database, config.schema);
      koban = new Koban(database, config, catalog);
      await prepareCatalog(catalog); // workers that only cron entries name
      await koban.boot();
      return koban;
    } catch (error) {
      // A half-started node stops its timers and listeners too, not just the connection.
      if (koban) await koban.stop().catch(() => undefined);
      else await database.close();
      throw error;
    }
  }

  /** This node's name, as recorded in each job's `attemptedBy`. */
  get node(): string {
    return this.config.node;
  }

  get schema(): string {
    return this.config.schema;
  }

  /** The Drizzle database Koban uses: query `koban.tables` with it, or open transactions for `{ tx }`. */
  get db(): DrizzleDatabase {
    return this.database.drizzle;
  }

  on<E extends keyof KobanEvents>(event: E, listener: (...args: KobanEvents[E]) => void): () => void {
    return this.events.on(event, listener);
  }

  /** Functions run around every attempt on this node; see KobanHooks. */
  get hooks(): KobanHooks {
    return this.processHooks;
  }

  async insert<Args, Result>(
    spec: JobSpec<Args, Result>,
    options: InsertOptions<Args> = {},
  ): Promise<InsertedJob<Args, Result>> {
    const { tx, ...jobOptions } = options;
    await prepareSpecs(this.catalog, [spec]);
    const row = prepareJob(spec, jobOptions, this.catalog);
    const [job] = await insertRows(this.database, this.config.schema, [row], tx);
    return job as InsertedJob<Args, Result>;
  }

  /**
   * The value a `@Recorded` job's `process` returned: `{ status: 'ok', value }`, or
   * `{ status: 'missing', reason, message }` while there is none. Typed from an inserted job.
   */
  fetchRecorded<Result = unknown>(
    job: RecordedJobRef<Result>,
    options?: FetchRecordedOptions<Result>,
  ): Promise<RecordedValue<Result>> {
    return fetchRecorded(this.database, this.config.schema, this.catalog, job, options);
  }

  /** Inserts many jobs in chunked multi-row statements; see InsertAllOptions. */
  insertAll(specs: JobSource, options: InsertAllOptions = {}): Promise<InsertedJob[]> {
    return insertAll(this.database, this.config.schema, this.catalog, specs, options);
  }

  getJob(id: JobId): Promise<JobRecord | null> {
    return getJob(this.database, this.config.schema, id);
  }

  listJobs(filter: JobFilter = {}): Promise<JobRecord[]> {
    return listJobs(this.database, this.config.schema, filter);
  }

  /** Cancels a job that has not finished; a running one is aborted through `job.signal`. */
  async cancelJob(id: JobId): Promise<boolean> {
    return (await this.cancelJobs([id])) === 1;
  }

  async cancelJobs(selection: JobSelection): Promise<number> {
    const { count, executing } = await cancelJobs(this.database, this.config.schema, selection);
    if (executing.length > 0) await this.signal({ action: 'abort', ids: executing });
    return count;
  }

  /** Runs a finished, retryable or scheduled job again now. */
  async retryJob(id: JobId): Promise<boolean> {
    return (await this.retryJobs([id])) === 1;
  }

  retryJobs(selection: JobSelection): Promise<number> {
    return retryJobs(this.database, this.config.schema, selection);
  }

  async deleteJob(id: JobId): Promise<boolean> {
    return (await this.deleteJobs([id])) === 1;
  }

  async deleteJobs(selection: JobSelection): Promise<number> {
    const { count, executing } = await deleteJobs(this.database, this.config.schema, selection);
    if (executing.length > 0) await this.signal({ action: 'abort', ids: executing });
    return count;
  }

  /** Stops fetching from a queue on every node; running jobs finish. Stored, so new nodes start paused. */
  async pauseQueue(queue: string): Promise<void> {
    checkQueueName(queue, 'pauseQueue');
    await storeQueueState(this.database, this.config.schema, queue, { paused: true });
    this.apply({ action: 'pause', queue });
    await this.signal({ action: 'pause', queue });
  }

  async resumeQueue(queue: string): Promise<void> {
    checkQueueName(queue, 'resumeQueue');
    await storeQueueState(this.database, this.config.schema, queue, { paused: false });
    this.apply({ action: 'resume', queue });
    await this.signal({ action: 'resume', queue });
  }

  /** Changes a queue's concurrency on every node that runs it. */
  async scaleQueue(queue: string, limit: number): Promise<void> {
    checkQueueName(queue, 'scaleQueue');
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(
        `scaleQueue(${JSON.stringify(queue)}): limit must be a positive integer, got ${limit}`,
      );
    }
    await storeQueueState(this.database, this.config.schema, queue, { limit });
    this.apply({ action: 'scale', queue, limit });
    await this.signal({ action: 'scale', queue, limit });
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

  /** Applies pending migrations; safe to call from many processes at once. */
  migrate(): Promise<MigrationResult> {
    return migrate(this.database, this.config.schema);
  }

  /**
   * Stops fetching, waits up to `shutdownGrace` for running jobs, and writes their outcomes.
   * Jobs still running then are aborted through `job.signal`: those that stop go back to the
   * queue with the attempt refunded. Any that ignore the abort stay executing under this node's
   * name; another node's lifeline rescues them once this node's heartbeat has lapsed, so they are
   * never lost and never run twice at once.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  /**
   * Runs `stop()` on SIGTERM and SIGINT, so that a container stop or Ctrl-C lets running jobs
   * finish (up to `shutdownGrace`) instead of leaving them `executing` until the lifeline
   * rescues them. Once stopped, the process ends as the signal would have ended it (unless the
   * application listens for it too); a second signal ends it at once. Returns a function that
   * removes the handlers.
   */
  stopOnSignals(signals: readonly NodeJS.Signals[] = defaultShutdownSignals): () => void {
    return onShutdownSignals(
      signals,
      () => this.stop(),
      (error) => this.config.logger.error('stop on signal failed', { error }),
    );
  }

  private async shutdown(): Promise<void> {
    await this.services.stopScheduling();
    const producers = [...this.producers.values()];
    await Promise.all(producers.map((producer) => producer.stop(this.config.shutdownGrace)));
    if (this.running.size > 0) {
      for (const job of this.running.values()) job.abort.abort(new KobanShutdownError(this.config.node));
      // Jobs that honour the abort settle quickly and go back to the queue with their attempt refunded.
      await Promise.all(producers.map((producer) => producer.settled(abortSettleMs)));
    }
    await this.acker.flush();
    this.acker.close();
    await this.services.stop({ leaveNode: this.running.size > 0 });
    await Promise.allSettled(this.unlisteners.map((unlisten) => unlisten()));
    await this.database.close();
  }

  private async boot(): Promise<void> {
    const { schema } = this.config;
    this.events.on('error', ({ source, error }) => this.config.logger.error(`${source} failed`, { error }));
    await this.services.start([...this.config.queues.keys()]);
    this.unlisteners.push(
      await this.database.listen(`${schema}_insert`, (queue) => this.producers.get(queue)?.wake()),
      await this.database.listen(`${schema}_signal`, (payload) => this.onSignal(payload)),
    );
    const stored = await readQueueStates(this.database, schema);
    for (const [queue, { limit, paused }] of this.config.queues) {
      const state = stored.get(queue);
      const producer = new Producer(queue, state?.limit ?? limit, state?.paused ?? paused ?? false, {
        database: this.database,
        schema,
        node: this.config.node,
        acker: this.acker,
        running: this.running,
        pollInterval: this.config.pollInterval,
        catalog: this.catalog,
        events: this.events,
        logger: this.config.logger,
        hooks: this.processHooks,
      });
      this.producers.set(queue, producer);
      producer.start();
    }
    await this.services.reportUnrunQueues();
  }

  private async signal(message: Signal): Promise<void> {
    await signal(this.database, this.config.schema, message);
  }

  private onSignal(payload: string): void {
    let message: Signal;
    try {
      message = JSON.parse(payload) as Signal;
    } catch {
      return;
    }
    this.apply(message);
  }

  /** Applies a signal to this node; pause, resume and scale apply at once on the node that asked too. */
  private apply(message: Signal): void {
    if (message.action === 'abort') {
      for (const id of message.ids) this.running.get(id)?.abort.abort(new Error(`job ${id} was cancelled`));
      return;
    }
    const producer = this.producers.get(message.queue);
    if (!producer) return;
    if (message.action === 'pause') producer.pause();
    else if (message.action === 'resume') producer.resume();
    else if (message.action === 'scale') producer.scale(message.limit);
  }

  /** For koban/testing: the pieces that run jobs inline. Keyed by a symbol the package does not export. */
  [kobanInternals]() {
    return {
      database: this.database,
      config: this.config,
      catalog: this.catalog,
      events: this.events,
      acker: this.acker,
      running: this.running,
      services: this.services,
      hooks: this.processHooks,
    };
  }
}

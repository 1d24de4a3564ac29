import { AsyncLocalStorage } from 'node:async_hooks';
import type { BatchStatus } from '../sdk/batch-context.js';
import { KobanJobCancelledError, KobanShutdownError, KobanValidationError } from '../sdk/errors.js';
import { checkUuid } from '../sdk/ids.js';
import type { JobRecord } from '../sdk/job.js';
import type { JobOptions, JobSpec } from '../sdk/job-spec.js';
import type { FetchRecordedOptions, RecordedJobRef, RecordedReader, RecordedValue } from '../sdk/recorded.js';
import { checkQueueName } from '../sdk/worker-options.js';
import { appendingWorkflow } from '../sdk/workflow.js';
import type { WorkflowAppender, WorkflowStatus } from '../sdk/workflow-context.js';
import { jobBatch } from './batches/job-batch.js';
import { appendedBatchPlan, plannedBatches } from './batches/plan.js';
import { batchStatus } from './batches/status.js';
import { type CronWorker, type KobanConfig, type ResolvedConfig, resolveConfig } from './config.js';
import { checkCronArgs } from './cron-args.js';
import { Database, type DrizzleDatabase, type Executor } from './database/database.js';
import { finishedBy } from './deadline.js';
import { Engine } from './engine/engine.js';
import type { InsertedJob } from './engine/insert.js';
import type { Signal } from './engine/queue-meta.js';
import { staleGeneratedWarning, staleGeneratedWorkers } from './generated-contracts.js';
import { type InsertAllOptions, type InsertSource, insertAll } from './insert-all.js';
import { getJob, type JobFilter, type JobId, type JobSelection, listJobs } from './job-queries.js';
import { type MigrationResult, migrate, verifySchema } from './migrator.js';
import { Acker } from './node/acker.js';
import { KobanEventEmitter, type KobanEvents } from './node/events.js';
import type { RunningJob } from './node/executor.js';
import { type KobanHooks, ProcessHooks } from './node/hooks.js';
import { defaultNodeName } from './node/node-name.js';
import { NodePlugins } from './node/node-plugins.js';
import { Producer } from './node/producer.js';
import { type KobanTables, kobanTables } from './schema.js';
import { defaultShutdownSignals, onShutdownSignals } from './shutdown-signals.js';
import { drainWith } from './testing/drain-loop.js';
import { TestingHarness } from './testing/harness.js';
import { prepareJobs } from './workers/prepare-job.js';
import { fetchRecorded } from './workers/recorded.js';
import { WorkerCatalog } from './workers/worker-catalog.js';
import { jobWorkflow } from './workflows/job-workflow.js';
import { appendedSteps } from './workflows/plan.js';
import { workflowStatus } from './workflows/status.js';

/** The key of the harness koban/testing runs jobs through; not part of the public API. */
export const testingHarness = Symbol('koban.testing');

/** Set while the `inline` testing mode runs jobs: inserts those jobs make join that run. */
const inlineRun = new AsyncLocalStorage<true>();

/** How long stop() waits for aborted jobs to settle after the grace period. */
const abortSettleMs = 1000;

/** How long stop() may then spend writing the last outcomes and leaving before it closes anyway. */
const releaseMs = 3000;

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
  private readonly engine: Engine;
  private readonly acker: Acker;
  private readonly plugins: NodePlugins;
  private unlisteners: (() => Promise<void>)[] = [];
  private inlineRuns: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly database: Database,
    private readonly config: ResolvedConfig,
    private readonly catalog: WorkerCatalog,
  ) {
    this.tables = kobanTables(config.schema);
    this.engine = new Engine(database, config.schema);
    this.acker = new Acker(this.engine, this.events);
    this.plugins = new NodePlugins(this.engine, config, catalog, this.events);
  }

  /** Connects, migrates (unless `migrate: false`), and starts the configured queues and plugins. */
  static async start<const CronWorkers extends readonly CronWorker[] = readonly CronWorker[]>(
    options: KobanConfig<CronWorkers> = {},
  ): Promise<Koban> {
    const config = resolveConfig(options, defaultNodeName());
    const stale = staleGeneratedWorkers(options.workers);
    if (stale.length > 0) config.logger.warn(staleGeneratedWarning(stale));
    // Bad worker options, keys and cron args fail here, before anything connects.
    const catalog = await WorkerCatalog.create(options.workers);
    await checkCronArgs(config.cron, catalog);
    const database = await Database.open(options.database, {
      dataDir: options.dataDir,
      poolSize: options.poolSize,
      connectTimeout: config.connectTimeout,
      reconnectDelay: config.reconnectDelay,
      schema: config.schema,
    });
    let koban: Koban | undefined;
    try {
      if (config.migrate) {
        await migrate(database, config.schema);
        await database.migrated(config.schema);
      } else await verifySchema(database, config.schema);
      koban = new Koban(database, config, catalog);
      await koban.boot();
      return koban;
    } catch (error) {
      // A half-started node stops its timers and listeners too, not just the connection.
      if (koban) await koban.stop().catch(() => undefined);
      else await database.close();
      throw error;
    }
  }

  /** Whether this node is the leader now: the one that runs the lifeline, the pruner and the leader-only plugins. */
  get isLeader(): boolean {
    return this.plugins.isLeader;
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
    const rows = await prepareJobs(this.catalog, [spec], jobOptions);
    const batches = rows[0]!.batchId == null ? [] : await plannedBatches(this.catalog, [spec], rows);
    const jobs = await this.engine.insert({ rows, batches }, tx);
    return (await this.runInline(jobs, tx))[0] as InsertedJob<Args, Result>;
  }

  /**
   * Inserts, all or nothing: a list of jobs (in chunked multi-row statements), a `workflow()`
   * (every step, held until its deps finish), or a `batch()` (its jobs, tracked for callbacks).
   */
  async insertAll(source: InsertSource, options: InsertAllOptions = {}): Promise<InsertedJob[]> {
    return this.runInline(await insertAll(this.engine, this.catalog, source, options), options.tx);
  }

  /**
   * Adds steps to a running workflow: `appendWorkflow(id, (wf) => wf.add('extra', Extra.new({}),
   * { deps: ['transform'] }))`. Deps may name the workflow's existing steps: one that completed
   * counts as done, one that failed cancels the new step at once (unless it ignores that).
   */
  async appendWorkflow(
    workflowId: string,
    build: WorkflowAppender,
    options: { tx?: Executor } = {},
  ): Promise<InsertedJob[]> {
    const id = checkUuid(workflowId, 'workflowId', 'appendWorkflow');
    const workflow = build(appendingWorkflow());
    const jobs = await this.engine.appendWorkflow(
      id,
      await appendedSteps(this.catalog, workflow, id),
      options.tx,
    );
    return this.runInline(jobs, options.tx);
  }

  /** Adds jobs to a batch that has not finished; its callbacks then wait for them too. */
  async appendBatch(
    batchId: string,
    jobs: readonly JobSpec[],
    options: { tx?: Executor } = {},
  ): Promise<InsertedJob[]> {
    const id = checkUuid(batchId, 'batchId', 'appendBatch');
    const inserted = await this.engine.appendBatch(
      id,
      await appendedBatchPlan(this.catalog, id, jobs),
      options.tx,
    );
    return this.runInline(inserted, options.tx);
  }

  /** A workflow's steps with their states and deps, and counts per state; null for an unknown id. */
  workflowStatus(workflowId: string): Promise<WorkflowStatus | null> {
    return workflowStatus(
      this.database,
      this.config.schema,
      checkUuid(workflowId, 'workflowId', 'workflowStatus'),
    );
  }

  /** Cancels the steps of a workflow that have not finished; running ones are aborted. */
  cancelWorkflow(workflowId: string): Promise<number> {
    return this.engine.cancel({ workflowId: checkUuid(workflowId, 'workflowId', 'cancelWorkflow') });
  }

  /** A batch's counts per state and which callbacks have fired; null for an unknown id. */
  batchStatus(batchId: string): Promise<BatchStatus | null> {
    return batchStatus(this.database, this.config.schema, checkUuid(batchId, 'batchId', 'batchStatus'));
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

  cancelJobs(selection: JobSelection): Promise<number> {
    return this.engine.cancel(selection);
  }

  /** Runs a finished, retryable or scheduled job again now. */
  async retryJob(id: JobId): Promise<boolean> {
    return (await this.retryJobs([id])) === 1;
  }

  retryJobs(selection: JobSelection): Promise<number> {
    return this.engine.retry(selection);
  }

  async deleteJob(id: JobId): Promise<boolean> {
    return (await this.deleteJobs([id])) === 1;
  }

  deleteJobs(selection: JobSelection): Promise<number> {
    return this.engine.delete(selection);
  }

  /** Stops fetching from a queue on every node; running jobs finish. Stored, so new nodes start paused. */
  async pauseQueue(queue: string): Promise<void> {
    await this.changeQueue({ action: 'pause', queue: checkQueueName(queue, 'pauseQueue') }, { paused: true });
  }

  async resumeQueue(queue: string): Promise<void> {
    await this.changeQueue(
      { action: 'resume', queue: checkQueueName(queue, 'resumeQueue') },
      { paused: false },
    );
  }

  /** Changes a queue's concurrency on every node that runs it. */
  async scaleQueue(queue: string, limit: number): Promise<void> {
    checkQueueName(queue, 'scaleQueue');
    const where = `scaleQueue(${JSON.stringify(queue)})`;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new KobanValidationError([
        { path: where, message: `limit must be a positive integer, got ${limit}` },
      ]);
    }
    await this.changeQueue({ action: 'scale', queue, limit }, { limit });
  }

  private async changeQueue(
    message: Signal & { queue: string },
    change: { paused?: boolean; limit?: number },
  ) {
    await this.engine.storeQueueState(message.queue, change);
    this.apply(message);
    await this.engine.signal(message);
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
    // With the database down or not answering, a claim, a periodic task or a write in flight may
    // never settle: each step gets a deadline, so stop() keeps to shutdownGrace whatever happens.
    const graceEnds = Date.now() + this.config.shutdownGrace;
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
    const releaseEnds = Date.now() + releaseMs;
    const released = await finishedBy(this.release(), releaseEnds);
    if (!released) {
      this.acker.close();
      this.config.logger.warn(
        `stop(): the database did not answer within ${releaseMs} ms; closing anyway. ` +
          'Jobs whose outcome was not written stay executing until the lifeline rescues them.',
      );
    }
    // Queries still in flight (the application's own on koban.db, or a claim that outlived the
    // grace period and waits for a database that is gone) get what is left of the same window.
    await this.database.close({ timeout: Math.max(0, releaseEnds - Date.now()) / 1000 });
  }

  /** Writes the last outcomes and leaves: the steps of stop() that need the database. */
  private async release(): Promise<void> {
    await this.acker.flush();
    this.acker.close();
    await this.plugins.stop({ keepNode: this.running.size > 0 });
    await Promise.allSettled(this.unlisteners.map((unlisten) => unlisten()));
  }

  private async boot(): Promise<void> {
    const { schema } = this.config;
    this.events.on('error', ({ source, error }) => this.config.logger.error(`${source} failed`, { error }));
    // In a testing mode the node runs nothing by itself: the test runs the jobs.
    if (this.config.testing) return;
    this.unlisteners.push(
      await this.database.listen(
        `${schema}_insert`,
        (queue) => this.producers.get(queue)?.wake(),
        // Inserts notified while the connection was down were missed: look for them now.
        () => this.wakeAll(),
      ),
      await this.database.listen(`${schema}_signal`, (payload) => this.onSignal(payload)),
    );
    const stored = await this.engine.readQueueStates();
    const contexts = this.contexts();
    for (const [queue, { limit, paused }] of this.config.queues) {
      const state = stored.get(queue);
      const producer = new Producer(queue, state?.limit ?? limit, state?.paused ?? paused ?? false, {
        engine: this.engine,
        node: this.config.node,
        acker: this.acker,
        running: this.running,
        pollInterval: this.config.pollInterval,
        catalog: this.catalog,
        events: this.events,
        logger: this.config.logger,
        hooks: this.processHooks,
        contexts,
      });
      this.producers.set(queue, producer);
    }
    // The heartbeat's first beat comes before the first claim: see runtime/plugins/heartbeat.ts.
    await this.plugins.start([...this.config.queues.keys()]);
    for (const producer of this.producers.values()) producer.start();
  }

  /**
   * In the `inline` testing mode, runs what an insert made runnable before the insert returns,
   * and returns the inserted jobs as they ended. An insert made by a job that runs inline leaves
   * its jobs to the run in progress; inserts from concurrent callers run one after another.
   */
  private async runInline(jobs: InsertedJob[], tx: Executor | undefined): Promise<InsertedJob[]> {
    if (this.config.testing !== 'inline' || tx || inlineRun.getStore()) return jobs;
    const harness = this[testingHarness]();
    const run = this.inlineRuns.then(() => inlineRun.run(true, () => drainWith(harness)));
    this.inlineRuns = run.then(
      () => undefined,
      () => undefined,
    );
    await run;
    return Promise.all(
      jobs.map(async (job) => Object.assign((await this.getJob(job.id)) ?? job, { conflict: job.conflict })),
    );
  }

  /** How jobs reach their workflow and batch while they run. */
  private contexts() {
    const access = {
      database: this.database,
      schema: this.config.schema,
      catalog: this.catalog,
      reader: this as RecordedReader,
      append: (id: string, build: WorkflowAppender) => this.appendWorkflow(id, build),
    };
    return {
      workflow: (row: Parameters<typeof jobWorkflow>[1]) => jobWorkflow(access, row),
      batch: (row: Parameters<typeof jobBatch>[1]) => jobBatch(access, row),
    };
  }

  private wakeAll(): void {
    for (const producer of this.producers.values()) producer.wake();
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
      for (const id of message.ids) this.running.get(id)?.abort.abort(new KobanJobCancelledError(id));
      return;
    }
    const producer = this.producers.get(message.queue);
    if (!producer) return;
    if (message.action === 'pause') producer.pause();
    else if (message.action === 'resume') producer.resume();
    else if (message.action === 'scale') producer.scale(message.limit);
  }

  /** For koban/testing: runs jobs on this node's executor. Keyed by a symbol the package does not export. */
  [testingHarness](): TestingHarness {
    return new TestingHarness(this.engine, this.catalog, {
      catalog: this.catalog,
      events: this.events,
      logger: this.config.logger,
      node: this.config.node,
      hooks: this.processHooks,
      contexts: this.contexts(),
    });
  }
}

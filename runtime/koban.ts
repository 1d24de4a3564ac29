import type { BatchStatus } from '../sdk/batch-context.js';
import { KobanCascade } from '../sdk/cascade.js';
import { KobanAwaitTimeoutError, KobanJobFailedError, KobanValidationError } from '../sdk/errors.js';
import { checkUuid } from '../sdk/ids.js';
import type { JobRecord } from '../sdk/job.js';
import type { JobOptions, JobSpec } from '../sdk/job-spec.js';
import type { FetchRecordedOptions, RecordedJobRef, RecordedReader, RecordedValue } from '../sdk/recorded.js';
import { checkQueueName } from '../sdk/worker-options.js';
import { appendingWorkflow } from '../sdk/workflow.js';
import type {
  WorkflowAppender,
  WorkflowResult,
  WorkflowStatus,
  WorkflowStreamOptions,
} from '../sdk/workflow-context.js';
import { Batches } from './batches/batches.js';
import {
  type CronWorker,
  type KobanConfig,
  type QueueConfig,
  type ResolvedConfig,
  resolveConfig,
  resolveQueue,
} from './config.js';
import type { Database } from './database/database.js';
import type { DrizzleDatabase, Executor } from './database/executor.js';
import { openDatabase } from './database/open-database.js';
import { missingRightError } from './database/permission-errors.js';
import type { ClaimedJob } from './engine/claim.js';
import type { Engine } from './engine/engine.js';
import { BasicEngine, engineContext } from './engine/engines/basic.js';
import { InlineEngine } from './engine/engines/inline.js';
import type { InsertedJob } from './engine/insert.js';
import { type JobFilter, type JobId, type JobSelection, toId } from './engine/job-filter.js';
import type { MigrationResult } from './engine/migrator.js';
import type { QueueChange } from './engine/queues.js';
import type { Signal } from './engine/signals.js';
import { type KobanTables, kobanTables } from './engine/tables.js';
import { DatabaseClock } from './node/database-clock.js';
import { Drainer } from './node/drainer.js';
import { KobanEventEmitter, type KobanEvents } from './node/events.js';
import type { ExecutorDeps } from './node/executor.js';
import { checkFlowChange, type QueueFlowChange } from './node/flow-options.js';
import { type KobanHooks, ProcessHooks } from './node/hooks.js';
import { drainerKey } from './node/internals.js';
import { JobWaiter } from './node/job-waiter.js';
import { Node, type QueueStatus, releaseMs } from './node/node.js';
import { defaultNodeName } from './node/node-name.js';
import { checkPlugins } from './node/plugin-runner.js';
import { ProgressSink } from './node/progress.js';
import { defaultShutdownSignals, onShutdownSignals } from './node/shutdown-signals.js';
import { type ConnectOptions, KobanOps } from './ops/ops.js';
import { checkCronArgs } from './plugins/cron-args.js';
import { CronControl } from './plugins/cron-control.js';
import { PruneControl } from './plugins/prune-control.js';
import {
  type MetricsHistoryQuery,
  type MetricsPoint,
  metricsRange,
  toMetricsPoint,
} from './telemetry/metrics-points.js';
import { type OpenTelemetry, openTelemetry } from './telemetry/open-telemetry.js';
import { staleGeneratedWarning, staleGeneratedWorkers } from './workers/generated-contracts.js';
import {
  type InsertAllOptions,
  type Inserter,
  type InsertSource,
  insertAll,
  insertSpecs,
  withCallerArgs,
} from './workers/insert-all.js';
import { checkQueuesFit, checkWorkersFitQueue } from './workers/queue-fit.js';
import { readRecorded } from './workers/recorded.js';
import { WorkerCatalog } from './workers/worker-catalog.js';
import { Workflows } from './workflows/workflows.js';

export type { WorkflowResult } from '../sdk/workflow-context.js';
export type { QueueStatus } from './node/node.js';

/** How long `awaitJob` and `awaitResult` wait. */
export interface AwaitOptions<Result = unknown> extends FetchRecordedOptions<Result> {
  /** Milliseconds to wait before rejecting with a KobanAwaitTimeoutError (the job goes on). Default 30000. */
  timeout?: number | undefined;
}

export interface InsertOptions<Args = any> extends JobOptions<Args> {
  /** A transaction of the application's Drizzle database to insert in: the job exists only if it commits. */
  tx?: Executor;
}

/**
 * A Koban node: it inserts jobs and, for the queues it is given, runs them. Start one per process
 * with `Koban.start`, and `stop()` it on shutdown.
 */
export class Koban implements RecordedReader {
  /** The Drizzle tables of this instance's schema, for custom queries. */
  readonly tables: KobanTables;
  /**
   * Cron entries stored in the database and changed at run time on every node: `insert`,
   * `update`, `pause`, `resume`, `delete`, `run` (now), `list`, `get`. See CronControl.
   */
  readonly cron: CronControl;
  /**
   * The pruner's retention rules, stored and changed at run time on every node: `set(match,
   * maxAge)`, `delete(match)`, `list()`, by queue, worker and final state. See PruneControl.
   */
  readonly pruner: PruneControl;
  private readonly processHooks = new ProcessHooks();
  private readonly events = new KobanEventEmitter();
  private readonly engine: Engine;
  private readonly workflows: Workflows;
  private readonly batches: Batches;
  private readonly inserter: Inserter;
  private readonly drainer: Drainer;
  private readonly progress: ProgressSink;
  private readonly waiter: JobWaiter;
  private localNode: Node | undefined;
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly database: Database,
    private readonly config: ResolvedConfig,
    private readonly catalog: WorkerCatalog,
    private readonly telemetry: OpenTelemetry | undefined,
  ) {
    this.tables = kobanTables(config.schema);
    const context = engineContext(database, config.schema, {
      keepHistory: config.history,
      insertHook: telemetry?.jobs.insertHook,
    });
    this.workflows = new Workflows(context, catalog);
    telemetry?.jobs.useWorkflows(this.workflows);
    this.batches = new Batches(context, catalog);
    context.extensions.push(this.workflows.extension, this.batches.extension);
    const inline = config.testing ? new InlineEngine(context, config.testing) : undefined;
    this.engine = inline ?? new BasicEngine(context);
    this.inserter = { engine: this.engine, catalog, workflows: this.workflows, batches: this.batches };
    catalog.limitsOf = (queue) =>
      this.localNode?.producers.get(queue)?.flow ?? config.queues.get(queue)?.flow;
    this.progress = new ProgressSink(this.engine, config.progressInterval, this.events);
    this.drainer = new Drainer(this.engine, catalog, this.executorDeps());
    this.waiter = new JobWaiter(this.engine);
    this.pruner = new PruneControl(this.engine);
    this.cron = new CronControl(this.engine, catalog, config.cron, async () => {
      const message = { action: 'cron' } as const;
      this.localNode?.apply(message);
      await this.engine.signal(message);
    });
    inline?.runWith(() => this.drainer.drain());
  }

  /** Connects, migrates (unless `migrate: false`), and starts the configured queues and plugins. */
  static async start<const CronWorkers extends readonly CronWorker[] = readonly CronWorker[]>(
    options: KobanConfig<CronWorkers> = {},
  ): Promise<Koban> {
    const config = resolveConfig(options, defaultNodeName());
    const stale = staleGeneratedWorkers(options.workers);
    if (stale.length > 0) config.logger.warn({ workers: stale.length }, staleGeneratedWarning(stale));
    // Bad worker options, keys, cron args and plugin options fail here, before anything connects.
    // Cascade steps run as Koban's own worker, on every node that runs their queue.
    const workers =
      options.workers && !options.workers.includes(KobanCascade)
        ? [...options.workers, KobanCascade]
        : options.workers;
    const clock = new DatabaseClock();
    const catalog = await WorkerCatalog.create(workers, {
      maxArgsBytes: config.maxArgsBytes,
      clock,
      beforeNew: config.beforeNew,
    });
    checkQueuesFit(config.queues, catalog);
    await checkCronArgs(config.cron, catalog);
    checkPlugins(config.plugins);
    const telemetry = await openTelemetry(options.opentelemetry);
    const database = await openDatabase(options.database, {
      dataDir: options.dataDir,
      poolSize: options.poolSize,
      connectTimeout: config.connectTimeout,
      reconnectDelay: config.reconnectDelay,
      schema: config.schema,
      pooler: config.pooler,
      listenUrl: config.listenUrl,
      statementDeadline: config.statementDeadline,
    });
    for (const warning of database.warnings) config.logger.warn(warning);
    let koban: Koban | undefined;
    try {
      koban = new Koban(database, config, catalog, telemetry);
      if (config.migrate) {
        await koban.engine.migrate();
        await database.migrated(config.schema);
      } else await koban.engine.verifySchema();
      await koban.keepTime(clock);
      await koban.boot();
      return koban;
    } catch (error) {
      // A half-started node stops its timers and listeners too, not just the connection.
      if (koban) await koban.stop().catch(() => undefined);
      else await database.close();
      throw missingRightError(error, config.schema) ?? error;
    }
  }

  /**
   * Connects the operator's client (dashboards, the `koban` CLI, scripts): it reads and steers
   * the whole cluster and never joins it as a node. See KobanOps.
   */
  static connect(options: ConnectOptions): Promise<KobanOps> {
    return KobanOps.connect(options);
  }

  /** Whether this node is the leader now: the one that runs the lifeline, the pruner and the leader-only plugins. */
  get isLeader(): boolean {
    return this.localNode?.isLeader ?? false;
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
    const jobs = await insertSpecs(this.inserter, [spec], jobOptions, tx);
    return (await this.engine.inserted(jobs, tx))[0] as InsertedJob<Args, Result>;
  }

  /**
   * Inserts, all or nothing: a list of jobs (in chunked multi-row statements), a `workflow()`
   * (every step, held until its deps finish), or a `batch()` (its jobs, tracked for callbacks).
   */
  insertAll(source: InsertSource, options: InsertAllOptions = {}): Promise<InsertedJob[]> {
    return insertAll(this.inserter, source, options);
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
    const jobs = await this.workflows.append(id, build(appendingWorkflow()), options.tx);
    return this.engine.inserted(await withCallerArgs(this.catalog, jobs), options.tx);
  }

  /** Adds jobs to a batch that has not finished; its callbacks then wait for them too. */
  async appendBatch(
    batchId: string,
    jobs: readonly JobSpec[],
    options: { tx?: Executor } = {},
  ): Promise<InsertedJob[]> {
    const id = checkUuid(batchId, 'batchId', 'appendBatch');
    const inserted = await this.batches.append(id, jobs, options.tx);
    return this.engine.inserted(await withCallerArgs(this.catalog, inserted), options.tx);
  }

  /**
   * A workflow's jobs in insert order, as an async iterator that reads `batchSize` (default 500)
   * at a time, keyset-paginated by id: `for await (const job of koban.streamWorkflowJobs(id))`.
   * Filters as `job.workflow.jobs`: `names`, `states`.
   */
  streamWorkflowJobs(workflowId: string, options: WorkflowStreamOptions = {}): AsyncIterable<JobRecord> {
    return this.workflows.stream(checkUuid(workflowId, 'workflowId', 'streamWorkflowJobs'), options);
  }

  /** A workflow's steps with their states and deps, and counts per state; null for an unknown id. */
  workflowStatus(workflowId: string): Promise<WorkflowStatus | null> {
    return this.workflows.status(checkUuid(workflowId, 'workflowId', 'workflowStatus'));
  }

  /**
   * A finished workflow's result: its state, its context, and the values of the steps named by
   * `.returns(...)` (by default its last steps, those no step depends on), by step name, a many's
   * as the list of its jobs' values. Null while a step has not finished.
   */
  async workflowResult<Results extends Record<string, unknown> = Record<string, unknown>>(
    workflowId: string,
  ): Promise<WorkflowResult<Results> | null> {
    const id = checkUuid(workflowId, 'workflowId', 'workflowResult');
    const result = await this.workflows.result(id);
    if (result === undefined)
      throw new KobanValidationError([{ path: 'workflowResult: workflowId', message: `no workflow ${id}` }]);
    return result as WorkflowResult<Results> | null;
  }

  /**
   * Waits until every step of a workflow has finished, on any node, and returns its result, as
   * `workflowResult` reads it. Rejects with a KobanAwaitTimeoutError after `timeout` ms (default
   * 30000; the workflow goes on).
   */
  async awaitWorkflow<Results extends Record<string, unknown> = Record<string, unknown>>(
    workflowId: string,
    options: { timeout?: number | undefined } = {},
  ): Promise<WorkflowResult<Results>> {
    const id = checkUuid(workflowId, 'workflowId', 'awaitWorkflow');
    const timeout = awaitTimeout(options, 'awaitWorkflow');
    const deadline = Date.now() + timeout;
    for (;;) {
      const result = await this.workflows.result(id);
      if (result === undefined)
        throw new KobanValidationError([{ path: 'awaitWorkflow: workflowId', message: `no workflow ${id}` }]);
      if (result) return result as WorkflowResult<Results>;
      if (Date.now() >= deadline) throw new KobanAwaitTimeoutError(id, timeout, 'executing', 'workflow');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Cancels the steps of a workflow that have not finished; running ones are aborted. */
  cancelWorkflow(workflowId: string): Promise<number> {
    return this.engine.cancel({ workflowId: checkUuid(workflowId, 'workflowId', 'cancelWorkflow') });
  }

  /** A batch's counts per state and which callbacks have fired; null for an unknown id. */
  batchStatus(batchId: string): Promise<BatchStatus | null> {
    return this.batches.status(checkUuid(batchId, 'batchId', 'batchStatus'));
  }

  /**
   * The value a `@Recorded` job's `process` returned: `{ status: 'ok', value }`, or
   * `{ status: 'missing', reason, message }` while there is none. Typed from an inserted job.
   */
  async fetchRecorded<Result = unknown>(
    job: RecordedJobRef<Result>,
    options: FetchRecordedOptions<Result> = {},
  ): Promise<RecordedValue<Result>> {
    const id = toId(typeof job === 'object' ? job.id : job);
    const row = await this.engine.recordedOf(id);
    if (!row) {
      return {
        status: 'missing',
        reason: 'not_found',
        message: `no job ${id}: never inserted, or pruned or deleted`,
      };
    }
    return readRecorded(this.catalog, row, options.codec);
  }

  /**
   * Waits until a job has finished (completed, discarded or cancelled), on whichever node ran it,
   * and returns it as it ended. Rejects with a KobanAwaitTimeoutError after `timeout` ms (the job
   * goes on), or a KobanJobFailedError if the job is deleted meanwhile.
   */
  async awaitJob(job: RecordedJobRef, options: AwaitOptions = {}): Promise<JobRecord> {
    const id = toId(typeof job === 'object' ? job.id : job);
    return (await this.waiter.wait(id, awaitTimeout(options, 'awaitJob'))) as JobRecord;
  }

  /**
   * Waits for a `@Recorded` job's value, typed from the inserted job:
   * `await koban.awaitResult(await koban.insert(ExtractWorker.new(args)))`, wherever it runs
   * (Oban Pro's Relay, BullMQ's waitUntilFinished). Rejects with a KobanJobFailedError when the job
   * was discarded or cancelled (with the last error), or completed without a stored value; with a
   * KobanAwaitTimeoutError after `timeout` ms.
   */
  async awaitResult<Result = unknown>(
    job: RecordedJobRef<Result>,
    options: AwaitOptions<Result> = {},
  ): Promise<Result> {
    const finished = await this.awaitJob(job, options);
    if (finished.state !== 'completed') {
      const reason = finished.errors.at(-1)?.error;
      throw new KobanJobFailedError(
        finished.id,
        `job ${finished.id} (${finished.worker}) was ${finished.state}${reason ? ` (${reason})` : ''}`,
        finished,
      );
    }
    const recorded = await this.fetchRecorded(finished.id, options.codec ? { codec: options.codec } : {});
    if (recorded.status === 'ok') return recorded.value;
    throw new KobanJobFailedError(
      finished.id,
      recorded.reason === 'not_recorded'
        ? `job ${finished.id} completed, but ${finished.worker} is not @Recorded, so its value was not stored: add @Recorded() to the worker, or await koban.awaitJob(job) for its outcome`
        : recorded.message,
      finished,
    );
  }

  /** A job as stored (an encrypted job's args are its envelope); null if there is none. */
  async getJob(id: JobId): Promise<JobRecord | null> {
    return (await this.engine.getJob(toId(id))) as JobRecord | null;
  }

  /** Jobs matching a filter, newest first, as stored. */
  listJobs(filter: JobFilter = {}): Promise<JobRecord[]> {
    return this.engine.listJobs(filter) as Promise<JobRecord[]>;
  }

  /**
   * The metrics history, added up over every node: per step of `step` minutes (default 1) from
   * `from` (default an hour ago) to `to` (default now), one point per queue and worker (or per
   * queue, or one for everything, by `groupBy`), with the attempts by outcome and their run and
   * queue times. Minutes without attempts are absent. For charts, `koban stats` and dashboards.
   */
  async metricsHistory(query: MetricsHistoryQuery = {}): Promise<MetricsPoint[]> {
    const rows = await this.engine.readMetrics(metricsRange(query, Date.now()));
    return rows.map(toMetricsPoint);
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

  /**
   * Stops fetching from a queue on every node; running jobs finish. Stored, so new nodes start
   * paused. With `{ node }`, only on the node of that name (`koban.node` for this one): kept in
   * that node's memory, not stored, so it lasts until `resumeQueue(queue, { node })` or the
   * node restarts.
   */
  async pauseQueue(queue: string, options: { node?: string } = {}): Promise<void> {
    checkQueueName(queue, 'pauseQueue', 'argument');
    const node = checkNodeOption(options, 'pauseQueue');
    if (node !== undefined) return this.signalNode({ action: 'pause', queue, node });
    await this.changeQueue({ action: 'pause', queue }, { paused: true });
  }

  /** Resumes a paused queue on every node; with `{ node }`, lifts that node's own pause only. */
  async resumeQueue(queue: string, options: { node?: string } = {}): Promise<void> {
    checkQueueName(queue, 'resumeQueue', 'argument');
    const node = checkNodeOption(options, 'resumeQueue');
    if (node !== undefined) return this.signalNode({ action: 'resume', queue, node });
    await this.changeQueue({ action: 'resume', queue }, { paused: false });
  }

  private async signalNode(message: Signal): Promise<void> {
    this.localNode?.apply(message);
    await this.engine.signal(message);
  }

  /** Changes a queue's concurrency on every node that runs it. */
  async scaleQueue(queue: string, limit: number): Promise<void> {
    checkQueueName(queue, 'scaleQueue', 'argument');
    const where = `scaleQueue(${JSON.stringify(queue)})`;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new KobanValidationError([
        { path: where, message: `limit must be a positive integer, got ${limit}` },
      ]);
    }
    await this.changeQueue({ action: 'scale', queue, limit }, { limit });
  }

  /**
   * Changes a queue's cluster-wide limits (and, with `limit`, its local limit) on every node, from
   * their next claim on: each limit given replaces the current one, `null` removes it. Stored, so
   * nodes that start later apply it over the limits they are started with.
   */
  async updateQueue(queue: string, change: QueueFlowChange & { limit?: number }): Promise<void> {
    checkQueueName(queue, 'updateQueue', 'argument');
    const where = `updateQueue(${JSON.stringify(queue)})`;
    if (typeof change !== 'object' || change === null) {
      throw new KobanValidationError([
        { path: where, message: `expected an object of limits, got ${JSON.stringify(change)}` },
      ]);
    }
    const flow = checkFlowChange(change, where, 'argument');
    checkWorkersFitQueue(queue, flow, this.catalog, where, 'argument');
    if (change.limit !== undefined) await this.scaleQueue(queue, change.limit);
    if (Object.keys(flow).length === 0) return;
    const state = await this.engine.storeQueueState(queue, { flow });
    const message: Signal = { action: 'configure', queue, flow: state.flow };
    this.localNode?.apply(message);
    await this.engine.signal(message);
  }

  /**
   * Starts a queue on every node at run time (Oban Pro's DynamicQueues), with a local limit and
   * cluster-wide limits as in `Koban.start({ queues })`. Stored, so nodes that start later run it
   * too; a queue already running takes the given options.
   */
  async startQueue(queue: string, options: number | QueueConfig): Promise<void> {
    checkQueueName(queue, 'startQueue', 'argument');
    const resolved = resolveQueue(options, `startQueue(${JSON.stringify(queue)})`, 'argument');
    checkWorkersFitQueue(
      queue,
      resolved.flow,
      this.catalog,
      `startQueue(${JSON.stringify(queue)})`,
      'argument',
    );
    const flow = {
      global: resolved.flow.global ?? null,
      partition: resolved.flow.partition ?? null,
      rateLimit: resolved.flow.rateLimit ?? null,
    };
    const state = await this.engine.storeQueueState(queue, {
      limit: resolved.limit,
      paused: resolved.paused,
      flow,
      run: 'started',
    });
    const message: Signal = { action: 'start', queue, state };
    this.localNode?.apply(message);
    await this.engine.signal(message);
  }

  /**
   * Stops a queue on every node: no more of its jobs are claimed, and those running finish. Stored,
   * so nodes that start later do not run it, even if they are started with it, until `startQueue`.
   */
  async stopQueue(queue: string): Promise<void> {
    checkQueueName(queue, 'stopQueue', 'argument');
    await this.changeQueue({ action: 'stop', queue }, { run: 'stopped' });
  }

  private async changeQueue(message: Signal & { queue: string }, change: QueueChange) {
    await this.engine.storeQueueState(message.queue, change);
    this.localNode?.apply(message);
    await this.engine.signal(message);
  }

  /** The queues this node runs, with their limits and running counts. */
  queues(): QueueStatus[] {
    return this.localNode?.queues() ?? [];
  }

  /** Applies pending migrations; safe to call from many processes at once. */
  migrate(): Promise<MigrationResult> {
    return this.engine.migrate();
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
      (error) => this.config.logger.error({ error }, 'stop on signal failed'),
    );
  }

  private clockTimer: NodeJS.Timeout | undefined;

  /** Syncs the database clock now and every minute: cron and scheduleIn go by it (database-clock.ts). */
  private async keepTime(clock: DatabaseClock): Promise<void> {
    await clock.sync(this.engine);
    this.clockTimer = setInterval(
      () =>
        void clock.sync(this.engine).catch((error) => this.events.emit('error', { source: 'clock', error })),
      clockSyncMs,
    );
    this.clockTimer.unref();
  }

  private async shutdown(): Promise<void> {
    const started = Date.now();
    clearInterval(this.clockTimer);
    this.waiter.close();
    if (this.localNode) {
      const released = await this.localNode.stop(started + this.config.shutdownGrace);
      if (!released) {
        this.config.logger.warn(
          `stop(): the database did not answer within ${releaseMs} ms; closing anyway. ` +
            'Jobs whose outcome was not written stay executing until the lifeline rescues them.',
        );
      }
    }
    // Queries still in flight (the application's own on koban.db, or a claim that outlived the
    // grace period and waits for a database that is gone) get what is left of the window.
    const closeBy = started + this.config.shutdownGrace + releaseMs;
    await this.database.close({ timeout: Math.max(0, closeBy - Date.now()) / 1000 });
    if (this.localNode)
      this.config.logger.info(
        { node: this.config.node, ms: Date.now() - started },
        `node ${this.config.node} stopped in ${Date.now() - started} ms`,
      );
  }

  private async boot(): Promise<void> {
    this.events.on('error', ({ source, error }) =>
      this.config.logger.error({ source, error }, `${source} failed`),
    );
    // In a testing mode the node runs nothing by itself: the test runs the jobs.
    if (this.config.testing) return;
    // The leader counts jobs per queue and state for the OpenTelemetry gauges, as a plugin.
    const gauges = this.telemetry?.gauges;
    this.localNode = new Node(
      this.engine,
      gauges ? { ...this.config, plugins: [gauges, ...this.config.plugins] } : this.config,
      this.catalog,
      this.workflows,
      this.events,
      this.executorDeps(),
    );
    await this.localNode.start();
    const queues = [...this.config.queues].map(([queue, { limit }]) => `${queue} (${limit})`);
    this.config.logger.info(
      { node: this.config.node, schema: this.config.schema, queues: Object.fromEntries(this.config.queues) },
      `node ${this.config.node} started${queues.length > 0 ? `, running ${queues.join(', ')}` : ', running no queues'}`,
    );
  }

  /** What the executor runs jobs with on this node: producers and the drainer alike. */
  private readonly held = new Set<string>();

  private executorDeps(): ExecutorDeps {
    const access = {
      catalog: this.catalog,
      reader: this as RecordedReader,
      append: (id: string, build: WorkflowAppender) => this.appendWorkflow(id, build),
      graft: async (job: ClaimedJob, build: WorkflowAppender) => {
        const grown = await this.workflows.graft(job, build(appendingWorkflow()));
        if (!grown) return this.workflows.grafted(job);
        return this.engine.inserted(await withCallerArgs(this.catalog, grown), undefined);
      },
    };
    return {
      catalog: this.catalog,
      events: this.events,
      logger: this.config.logger,
      node: this.config.node,
      hooks: this.processHooks,
      held: this.held,
      progress: this.progress,
      telemetry: this.telemetry?.jobs,
      contexts: {
        workflow: (job) => this.workflows.context(job, access),
        batch: (job) => this.batches.context(job),
      },
    };
  }

  /** For koban/testing: the drainer that runs jobs on this node's executor. Keyed by a symbol the package does not export. */
  [drainerKey](): Drainer {
    return this.drainer;
  }
}

/** How often the database clock is read again: clocks drift slowly, a skew is constant. */
const clockSyncMs = 60_000;

const defaultAwaitTimeout = 30_000;

function checkNodeOption(options: { node?: string }, where: string): string | undefined {
  if (typeof options !== 'object' || options === null) {
    throw new KobanValidationError([
      {
        path: where,
        message: `options must be an object like { node: 'web-1' }, got ${JSON.stringify(options)}`,
      },
    ]);
  }
  const { node } = options;
  if (node !== undefined && (typeof node !== 'string' || node.trim() === '')) {
    throw new KobanValidationError([
      { path: `${where}: node`, message: `expected a node's name, got ${JSON.stringify(node)}` },
    ]);
  }
  return node;
}

function awaitTimeout(options: AwaitOptions, where: string): number {
  const timeout = options.timeout ?? defaultAwaitTimeout;
  if (!(Number.isFinite(timeout) && timeout > 0)) {
    throw new KobanValidationError([
      { path: `${where}: timeout`, message: `expected milliseconds above 0, got ${String(timeout)}` },
    ]);
  }
  return timeout;
}

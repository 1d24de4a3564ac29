import { randomUUID } from 'node:crypto';
import type { BatchStatus } from '../../sdk/batch-context.js';
import { KobanConfigError, KobanDatabaseError, KobanValidationError } from '../../sdk/errors.js';
import { checkUuid } from '../../sdk/ids.js';
import type { JobRecord } from '../../sdk/job.js';
import type { RecordedValue } from '../../sdk/recorded.js';
import { checkQueueName } from '../../sdk/worker-options.js';
import type { WorkflowStatus } from '../../sdk/workflow-context.js';
import { batchStatus } from '../batches/status.js';
import type { Database } from '../database/database.js';
import { type DatabaseInput, openDatabase } from '../database/open-database.js';
import type { StoredBatchSummary, StoredFlowSummary } from '../engine/cluster-reads.js';
import { BasicEngine, engineContext } from '../engine/engines/basic.js';
import type { StoredHealth } from '../engine/health.js';
import { type JobId, toId } from '../engine/job-filter.js';
import { decodeCursor, type JobPageRequest, type JobSearch, pageSize } from '../engine/job-search.js';
import type { MigrationResult } from '../engine/migrator.js';
import type { Signal } from '../engine/signals.js';
import { CronControl } from '../plugins/cron-control.js';
import {
  type MetricsHistoryQuery,
  type MetricsPoint,
  metricsRange,
  toMetricsPoint,
} from '../telemetry/metrics-points.js';
import { readRecorded } from '../workers/recorded.js';
import { WorkerCatalog } from '../workers/worker-catalog.js';
import { workflowStatus } from '../workflows/status.js';
import { type BulkAction, type BulkOptions, type BulkResult, type BulkTarget, runBulk } from './bulk.js';
import {
  type CronOverview,
  cronOverviews,
  type NodeOverview,
  nodeOverviews,
  type QueueOverview,
  queueOverviews,
} from './overview.js';

export interface ConnectOptions {
  /** A postgres:// URL, a Drizzle database or a PGlite instance: the database the nodes use. */
  database: DatabaseInput;
  /** The schema of Koban's tables. Default `koban`. */
  schema?: string | undefined;
  /** Connections to open for a URL. Default 4. */
  poolSize?: number | undefined;
  /** Milliseconds a search or count may run before it is stopped. Default 5000. */
  statementTimeout?: number | undefined;
  /** Milliseconds without a heartbeat after which a node counts as gone. Default 60000 (the default `rescueAfter`). */
  staleAfter?: number | undefined;
  /** Check that the schema is current (default); `false` for tools that report on or migrate it. */
  verifySchema?: boolean | undefined;
}

/** A job with what the operator's view shows beside it. */
export interface JobDetail {
  readonly job: JobRecord<unknown>;
  /** The recorded value (decoded when the worker's codec is not needed), or why there is none. */
  readonly recorded: RecordedValue<unknown> | { status: 'unreadable'; message: string };
}

export interface JobPage {
  readonly jobs: JobRecord<unknown>[];
  readonly next: string | null;
  /**
   * A text search (`args`, `meta`) reads at most `textSearchWindow` (100,000) ids per page: when
   * it stopped there, the ids it read, newest to oldest; more may match below, and `next`
   * searches on. Null when the page read everything it needed.
   */
  readonly searched: { readonly fromId: string; readonly toId: string } | null;
}

export interface Overview {
  readonly queues: QueueOverview[];
  readonly nodes: NodeOverview[];
  readonly leader: string | null;
}

export type { BulkOptions, BulkProgress, BulkResult, BulkTarget } from './bulk.js';
export type { CronOverview, NodeOverview, QueueOverview } from './overview.js';

const schemaPattern = /^[a-z_][a-z0-9_]{0,40}$/;

function positive(value: number | undefined, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new KobanConfigError(`Koban.connect({ ${option} }): expected a positive integer, got ${value}`);
  }
  return value;
}

/**
 * The operator's client: reads the whole cluster and steers it, from any process, without
 * joining it. It runs no jobs, never heartbeats and never takes leadership, so a dashboard or a
 * CLI never shows up as a node or holds work. Open one with `Koban.connect({ database })`.
 */
export class KobanOps {
  private constructor(
    private readonly database: Database,
    private readonly engine: BasicEngine,
    private readonly catalog: WorkerCatalog,
    readonly schema: string,
    private readonly timeoutMs: number,
    private readonly staleAfterMs: number,
  ) {
    // Stored entries only: the entries nodes were started with come from their heartbeats.
    this.cron = new CronControl(engine, catalog, [], () => engine.signal({ action: 'cron' }));
  }

  private readonly cron: CronControl;

  static async connect(options: ConnectOptions): Promise<KobanOps> {
    if (options === null || typeof options !== 'object') {
      throw new KobanConfigError('Koban.connect(options): expected { database }, got nothing');
    }
    const schema = options.schema ?? 'koban';
    if (!schemaPattern.test(schema)) {
      throw new KobanConfigError(
        `Koban.connect({ schema }): expected a lower-case identifier, got ${JSON.stringify(schema)}`,
      );
    }
    const timeoutMs = positive(options.statementTimeout, 5000, 'statementTimeout');
    const staleAfterMs = positive(options.staleAfter, 60_000, 'staleAfter');
    const database = await openDatabase(options.database, {
      poolSize: positive(options.poolSize, 4, 'poolSize'),
      schema,
    });
    const engine = new BasicEngine(engineContext(database, schema));
    try {
      if (options.verifySchema !== false) await engine.verifySchema();
    } catch (error) {
      await database.close();
      throw error;
    }
    // The workers defined in this process, if any: their codecs read recorded values.
    const catalog = await WorkerCatalog.create(undefined);
    return new KobanOps(database, engine, catalog, schema, timeoutMs, staleAfterMs);
  }

  /** Where the client is connected, without credentials. */
  get description(): string {
    return this.database.description;
  }

  /** Every queue any job, node or stored setting names, with its counts and the nodes that run it. */
  async queues(): Promise<QueueOverview[]> {
    const [counts, cluster] = await Promise.all([this.engine.queueCounts(), this.engine.clusterNodes()]);
    return queueOverviews(counts, cluster, this.staleAfterMs);
  }

  /** The nodes that heartbeat (alive or not yet forgotten), and the leader. */
  async nodes(): Promise<{ nodes: NodeOverview[]; leader: string | null }> {
    const cluster = await this.engine.clusterNodes();
    return { nodes: nodeOverviews(cluster, this.staleAfterMs), leader: cluster.leader?.node ?? null };
  }

  /** Queues, nodes and leader in one read of the nodes: what the overview page shows. */
  async overview(): Promise<Overview> {
    const [counts, cluster] = await Promise.all([this.engine.queueCounts(), this.engine.clusterNodes()]);
    return {
      queues: queueOverviews(counts, cluster, this.staleAfterMs),
      nodes: nodeOverviews(cluster, this.staleAfterMs),
      leader: cluster.leader?.node ?? null,
    };
  }

  /**
   * Every cron entry: those stored in the database (`koban.cron`) and those the live nodes were
   * started with, each with its last job and next tick.
   */
  async crons(): Promise<CronOverview[]> {
    const [cluster, runs, stored, paused] = await Promise.all([
      this.engine.clusterNodes(),
      this.engine.lastCronRuns(),
      this.cron.list(),
      this.engine.pausedCronNames(),
    ]);
    return cronOverviews(cluster, runs, stored, paused, this.staleAfterMs);
  }

  /**
   * Inserts an entry's job now, outside its schedule, paused or not. A stored entry's job is
   * built here, with the entry's worker, so this process must define it (a dashboard mounted in
   * the application does; a bare CLI may not, and says so). An entry of a node's
   * `Koban.start({ cron })` is run by the live nodes that have it, asked by signal: one of them
   * inserts the job, once, and this waits for it (up to `runTimeoutMs`, default 10 s).
   */
  async runCron(name: string, runTimeoutMs = 10_000): Promise<JobRecord<unknown>> {
    if (await this.isStoredCron(name)) return (await this.cron.run(name)) as unknown as JobRecord<unknown>;
    await this.configuredCron(name, 'runCron');
    const request = randomUUID();
    await this.engine.signal({ action: 'cron-run', name, request });
    const deadline = Date.now() + runTimeoutMs;
    for (;;) {
      const id = await this.engine.cronRunJob(`cron:${name}:manual:${request}`);
      if (id) return (await this.engine.getJob(id)) as JobRecord<unknown>;
      if (Date.now() > deadline)
        throw new KobanDatabaseError(
          `runCron(${JSON.stringify(name)}): no node inserted the job within ${runTimeoutMs} ms; the nodes with the entry may not hear signals (koban doctor checks LISTEN)`,
        );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Pauses an entry on every node (and on nodes that start later): no tick fires until it is resumed. */
  async pauseCron(name: string): Promise<void> {
    if (await this.isStoredCron(name)) {
      await this.cron.pause(name);
      return;
    }
    await this.configuredCron(name, 'pauseCron');
    await this.engine.setCronPaused(name, true);
    await this.engine.signal({ action: 'cron' });
  }

  async resumeCron(name: string): Promise<void> {
    if (await this.isStoredCron(name)) {
      await this.cron.resume(name);
      return;
    }
    // A paused entry no live node has any more may still be resumed, to forget its pause.
    if (!(await this.engine.pausedCronNames()).has(name)) await this.configuredCron(name, 'resumeCron');
    await this.engine.setCronPaused(name, false);
    await this.engine.signal({ action: 'cron' });
  }

  private async isStoredCron(name: string): Promise<boolean> {
    return (await this.engine.listCronEntries()).some((entry) => entry.name === name);
  }

  /** Checks that a live node was started with an entry of that name. */
  private async configuredCron(name: string, where: string): Promise<void> {
    const cluster = await this.engine.clusterNodes();
    const live = cluster.nodes.filter((node) => node.silentMs < this.staleAfterMs);
    if (live.some((node) => (node.report.cron ?? []).some((entry) => entry.name === name))) return;
    throw new KobanValidationError([
      {
        path: `${where}(${JSON.stringify(name)})`,
        message: `no cron entry of that name, stored or on a live node; koban cron lists them`,
      },
    ]);
  }

  /**
   * Jobs matching a search, newest first, a page at a time: pass the page's `next` as `cursor`
   * for the one after. See JobSearch for every filter.
   */
  /**
   * The metrics history added up over every node, as `koban.metricsHistory` reads it: points
   * per step, queue and worker with counts by outcome and run and queue times, for charts.
   */
  async metricsHistory(query: MetricsHistoryQuery = {}): Promise<MetricsPoint[]> {
    return (await this.engine.readMetrics(metricsRange(query, Date.now()))).map(toMetricsPoint);
  }

  async searchJobs(search: JobSearch = {}, page: JobPageRequest = {}): Promise<JobPage> {
    const limit = pageSize(page.limit, 'searchJobs');
    const before = decodeCursor(page.cursor, 'searchJobs');
    const found = await this.engine.searchJobs(search, { limit, before }, this.timeoutMs);
    return found as JobPage;
  }

  /** How many jobs a search matches. */
  countJobs(search: JobSearch = {}): Promise<number> {
    return this.engine.countJobs(search, this.timeoutMs);
  }

  /** A job as stored (an encrypted job's args are its envelope) with its recorded value; null if there is none. */
  async job(id: JobId): Promise<JobDetail | null> {
    const jobId = toId(id);
    const job = await this.engine.getJob(jobId);
    if (!job) return null;
    const row = await this.engine.recordedOf(jobId);
    let recorded: JobDetail['recorded'];
    try {
      recorded = row ? await readRecorded(this.catalog, row) : { status: 'unreadable', message: 'gone' };
    } catch (error) {
      // An encrypted value needs the worker's key, which only the application holds.
      recorded = { status: 'unreadable', message: (error as Error).message };
    }
    return { job: job as JobRecord<unknown>, recorded };
  }

  /** Cancels jobs: ids, or `{ filter }` for every job a search matches. See BulkOptions. */
  cancelJobs(target: BulkTarget, options: BulkOptions = {}): Promise<BulkResult> {
    return this.bulk('cancel', target, options);
  }

  /** Runs finished, retryable or scheduled jobs again now. */
  retryJobs(target: BulkTarget, options: BulkOptions = {}): Promise<BulkResult> {
    return this.bulk('retry', target, options);
  }

  deleteJobs(target: BulkTarget, options: BulkOptions = {}): Promise<BulkResult> {
    return this.bulk('delete', target, options);
  }

  private bulk(action: BulkAction, target: BulkTarget, options: BulkOptions): Promise<BulkResult> {
    if (target === null || typeof target !== 'object') {
      throw new KobanValidationError([
        { path: `${action}Jobs`, message: 'expected a list of ids or { filter }' },
      ]);
    }
    // Walking a whole filter reads in batches: each read gets a longer bound than a page does.
    return runBulk(this.engine, action, target, options, this.timeoutMs * 6);
  }

  async workflows(options: { limit?: number } = {}): Promise<StoredFlowSummary[]> {
    return this.engine.workflowSummaries(pageSize(options.limit, 'workflows'));
  }

  workflow(id: string): Promise<WorkflowStatus | null> {
    return workflowStatus(this.engine.context, checkUuid(id, 'workflowId', 'workflow'));
  }

  async batches(options: { limit?: number } = {}): Promise<StoredBatchSummary[]> {
    return this.engine.batchSummaries(pageSize(options.limit, 'batches'));
  }

  batch(id: string): Promise<BatchStatus | null> {
    return batchStatus(this.engine.context, checkUuid(id, 'batchId', 'batch'));
  }

  /** Cancels every unfinished step of a workflow. */
  cancelWorkflow(id: string, options: { reason?: string } = {}): Promise<BulkResult> {
    return this.cancelJobs(
      { filter: { workflowId: checkUuid(id, 'workflowId', 'cancelWorkflow') } },
      options,
    );
  }

  /** Runs again the steps of a workflow that failed (cancelled, discarded or retryable); their dependents wait for them. */
  retryWorkflow(id: string): Promise<BulkResult> {
    return this.retryJobs({
      filter: {
        workflowId: checkUuid(id, 'workflowId', 'retryWorkflow'),
        state: ['cancelled', 'discarded', 'retryable'],
      },
    });
  }

  async pauseQueue(queue: string): Promise<void> {
    const name = checkQueueName(queue, 'pauseQueue', 'argument');
    await this.changeQueue({ action: 'pause', queue: name }, { paused: true });
  }

  async resumeQueue(queue: string): Promise<void> {
    const name = checkQueueName(queue, 'resumeQueue', 'argument');
    await this.changeQueue({ action: 'resume', queue: name }, { paused: false });
  }

  /** Sets a queue's concurrency on every node that runs it (and on nodes that start later). */
  async scaleQueue(queue: string, limit: number): Promise<void> {
    const name = checkQueueName(queue, 'scaleQueue', 'argument');
    if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) {
      throw new KobanValidationError([
        {
          path: `scaleQueue(${JSON.stringify(name)})`,
          message: `limit must be an integer from 1 to 100000, got ${limit}`,
        },
      ]);
    }
    await this.changeQueue({ action: 'scale', queue: name, limit }, { limit });
  }

  private async changeQueue(message: Signal, change: { paused?: boolean; limit?: number }): Promise<void> {
    await this.engine.storeQueueState((message as { queue: string }).queue, change);
    await this.engine.signal(message);
  }

  /** What `koban doctor` reports on: the schema, indexes, bloat, long transactions. */
  health(): Promise<StoredHealth> {
    return this.engine.readHealth();
  }

  /** Whether LISTEN/NOTIFY works through this connection (a pooler in transaction mode breaks it). */
  listenWorks(timeoutMs = 2000): Promise<boolean> {
    return this.engine.listenWorks(timeoutMs);
  }

  /** Applies pending migrations (for `koban migrate`). */
  migrate(): Promise<MigrationResult> {
    return this.engine.migrate();
  }

  async close(): Promise<void> {
    await this.database.close();
  }
}

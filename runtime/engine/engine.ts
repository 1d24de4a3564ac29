import type { Executor } from '../database/executor.js';
import type { Ack, AckDeadline } from './ack.js';
import type { ChunkGroup } from './chunk-claim.js';
import type { ClaimedJob, QueueClaim, QueueClaimOptions } from './claim.js';
import type {
  StoredBatchSummary,
  StoredCluster,
  StoredCronRun,
  StoredFlowSummary,
  StoredQueueCounts,
} from './cluster-reads.js';
import type { CronEntryChange, CronEntryRow, StoredCronEntry } from './cron-entries.js';
import type { FlowLimits, LimitedClaim, LimitedClaimOptions } from './flow.js';
import type { StoredHealth } from './health.js';
import type { Holdings } from './holdings.js';
import type { InsertedJob, InsertPlan } from './insert.js';
import type { JobFilter, JobSelection } from './job-filter.js';
import type { JobKeyset, StoredJobPage } from './job-pages.js';
import type { JobSearch } from './job-search.js';
import type { MetricsRange, MetricsRow, MetricsWireRow } from './metrics-history.js';
import type { MigrationResult } from './migrator.js';
import type { Beat, NodeReport } from './nodes.js';
import type { AgingScope } from './priority-aging.js';
import type { PruneMatch, StoredPruneRule } from './prune-rules.js';
import type { QueueGauge } from './queue-gauges.js';
import type { QueueChange, StoredQueueState } from './queues.js';
import type { StoredJob, StoredRecorded } from './records.js';
import type { Signal } from './signals.js';
import type { StageScope } from './stage.js';

/**
 * The one typed data port, as Oban's Engine and River's driver are: every statement Koban runs
 * is one of these operations, and each takes and returns normalised records (string ids, Dates,
 * args in stored form). Implementations: engines/basic.ts runs them on a database; engines/inline.ts
 * (the `inline` testing mode) runs what an insert made runnable before the insert returns.
 * Workflows and batches add their own operations as extensions (runtime/workflows, runtime/batches).
 */
export interface Engine {
  readonly schema: string;
  /** Which database is underneath: PGlite has one connection, which some callers plan around. */
  readonly kind: 'postgres' | 'pglite';

  /** Runs `work` in a transaction; operations given its `tx` join it. */
  transaction<T>(work: (tx: Executor) => Promise<T>): Promise<T>;

  // The job lifecycle.
  insert(plan: InsertPlan, tx?: Executor): Promise<InsertedJob[]>;
  /**
   * What becomes of jobs an insert (or an append) made, before it returns: nothing on the basic
   * engine; on the inline engine, they run to the end, and come back as they ended.
   */
  inserted(jobs: InsertedJob[], tx: Executor | undefined): Promise<InsertedJob[]>;
  /** `signal` aborts a claim its caller gave up on: the statement is cancelled in the server. */
  claim(queue: string, limit: number, node: string, signal?: AbortSignal): Promise<ClaimedJob[]>;
  /** A claim of a plain queue past `after` (see queue-position.ts), and where it ended. */
  claimQueue(queue: string, limit: number, node: string, options: QueueClaimOptions): Promise<QueueClaim>;
  /**
   * Claims from a queue with cluster-wide limits (flow-claim.ts); plain queues use `claimQueue`.
   * `deadlineMs`: the server ends the claim's transaction past it (statement and idle timeouts).
   * `finished`: jobs of this node whose attempt has ended but whose outcome is not written yet.
   * `after`: where to start, for a claim in the queue's order (`claimsInOrder`).
   */
  claimLimited(
    queue: string,
    limit: number,
    node: string,
    flow: FlowLimits,
    options?: LimitedClaimOptions,
  ): Promise<LimitedClaim>;
  claimById(ids: readonly string[], node: string): Promise<ClaimedJob[]>;
  /** Claims available jobs of one chunk's group (chunk-claim.ts), to fill a chunk worker's chunk. */
  claimChunk(group: ChunkGroup, limit: number, node: string): Promise<ClaimedJob[]>;
  /** `deadline`: see AckDeadline. */
  ack(acks: readonly Ack[], deadline?: AckDeadline): Promise<void>;
  stage(limit?: number): Promise<number>;
  /** Makes the scheduled and retryable jobs of a scope available now, except `keep`. */
  stageNow(scope: StageScope, keep: readonly string[]): Promise<void>;
  rescue(deadAfterMs: number): Promise<number>;
  /** Ends up to `limit` waiting jobs whose deadline passed before they started; returns how many. */
  expireDeadlines(limit?: number): Promise<number>;
  /** Stores a running job's progress (JSON text) if `attempt` is still its running attempt. */
  setProgress(id: string, attempt: number, progress: string): Promise<boolean>;
  /**
   * Rescues the jobs a previous process under `node`'s name left executing (attempted before the
   * node row's `started_at`), whatever its heartbeat: a restarted node's own orphans, at once.
   */
  rescueRestarted(node: string): Promise<number>;
  /**
   * Gives back the jobs executing under a live `node` that it does not know it holds (`known`),
   * claimed more than `graceMs` ago, and returns what is executing under its name.
   */
  reconcileHoldings(node: string, known: readonly string[], graceMs: number): Promise<Holdings>;
  /** Prunes finished jobs older than `maxAgeSeconds`, or than the age of the stored rule closest to each. */
  prune(maxAgeSeconds: number, limit: number): Promise<number>;
  /** Raises the priority of available jobs that waited too long, one step (priority-aging.ts). */
  agePriorities(scope: AgingScope): Promise<number>;
  // Retention rules of the pruner (`koban.pruner`).
  listPruneRules(): Promise<StoredPruneRule[]>;
  setPruneRule(match: PruneMatch, maxAge: number | null): Promise<StoredPruneRule>;
  deletePruneRule(match: PruneMatch): Promise<boolean>;
  /**
   * Keeps the history ready: partitions for today and `daysAhead` days, and up to `moveLimit`
   * finished jobs still in `jobs` moved to it. Returns how many were moved.
   */
  maintainHistory(daysAhead: number, moveLimit: number): Promise<number>;
  /** Cancels; a `reason` is kept in each cancelled job's errors. */
  cancel(selection: JobSelection, reason?: string): Promise<number>;
  retry(selection: JobSelection): Promise<number>;
  delete(selection: JobSelection): Promise<number>;

  // Reads.
  getJob(id: string): Promise<StoredJob | null>;
  listJobs(filter: JobFilter): Promise<StoredJob[]>;
  /** The jobs of these ids that exist (finished or not), in no set order. */
  jobsByIds(ids: readonly string[]): Promise<StoredJob[]>;
  allJobs(filter: Omit<JobFilter, 'limit'>): Promise<StoredJob[]>;
  availableQueues(queue?: string): Promise<string[]>;
  /** Which of `queues` have an available job: the node's poll. */
  queuesWithAvailable(queues: readonly string[]): Promise<string[]>;
  availableIn(scope: { workflowId?: string; batchId?: string }): Promise<string[]>;
  recordedOf(id: string): Promise<StoredRecorded | null>;

  // The operator's view (runtime/ops): cluster-wide reads, whichever process asks. Searches
  // stop after `timeoutMs`.
  searchJobs(search: JobSearch, page: JobKeyset, timeoutMs: number): Promise<StoredJobPage>;
  countJobs(search: JobSearch, timeoutMs: number): Promise<number>;
  searchIds(search: JobSearch, page: JobKeyset, timeoutMs: number): Promise<string[]>;
  queueCounts(): Promise<StoredQueueCounts[]>;
  clusterNodes(): Promise<StoredCluster>;
  lastCronRuns(): Promise<StoredCronRun[]>;
  /** The job a run-now request of a configured cron entry inserted (see cron.ts `runNow`). */
  cronRunJob(uniqueKey: string): Promise<string | null>;
  workflowSummaries(limit: number): Promise<StoredFlowSummary[]>;
  batchSummaries(limit: number): Promise<StoredBatchSummary[]>;
  /** What `koban doctor` checks: schema version, indexes, bloat, long transactions. */
  readHealth(): Promise<StoredHealth>;
  /** Whether a NOTIFY reaches this client's LISTEN within `timeoutMs`. */
  listenWorks(timeoutMs: number): Promise<boolean>;

  /** The database's clock now, in epoch milliseconds. */
  databaseTime(): Promise<number>;

  // Queues and signals.
  readQueueStates(): Promise<Map<string, StoredQueueState>>;
  storeQueueState(queue: string, change: QueueChange): Promise<StoredQueueState>;
  signal(message: Signal): Promise<void>;
  /** Calls `onQueue` with each queue that jobs became available in; `onRelisten` after a lost listen. */
  listenInserts(onQueue: (queue: string) => void, onRelisten: () => void): Promise<() => Promise<void>>;
  listenSignals(onSignal: (signal: Signal) => void): Promise<() => Promise<void>>;
  /** Whether NOTIFYs reach this engine's listeners; when not (behind a pooler with no `listenUrl`), nodes poll. */
  listens(): boolean;
  /** Which of `ids` are still executing. */
  stillExecuting(ids: readonly string[]): Promise<string[]>;

  // The metrics history.
  /** Adds nodes' per-minute roll-ups to the history. */
  writeMetrics(rows: readonly MetricsRow[]): Promise<void>;
  /** The history added up across nodes, in steps, by series. */
  readMetrics(range: MetricsRange): Promise<MetricsWireRow[]>;
  pruneMetrics(maxAgeSeconds: number): Promise<number>;
  /** Unfinished jobs per queue and state, cluster-wide: the leader's gauges. */
  queueGauges(): Promise<QueueGauge[]>;
  // Cron entries stored in the database (`koban.cron`).
  listCronEntries(): Promise<StoredCronEntry[]>;
  /** Changes when an entry is inserted, updated or deleted: what a node that cannot LISTEN polls. */
  cronFingerprint(): Promise<string>;
  /** Null when an entry of that name exists. */
  insertCronEntry(entry: CronEntryRow): Promise<StoredCronEntry | null>;
  /** Null when there is no entry of that name. */
  updateCronEntry(name: string, change: CronEntryChange): Promise<StoredCronEntry | null>;
  deleteCronEntry(name: string): Promise<boolean>;
  /** Takes a tick of a stored entry in `tx`, the transaction that inserts its job; false when taken already. */
  claimCronTick(name: string, tick: Date, tx: Executor): Promise<boolean>;
  /** The configured (`Koban.start({ cron })`) entries paused on every node, by name. */
  pausedCronNames(): Promise<Set<string>>;
  cronPaused(name: string): Promise<boolean>;
  setCronPaused(name: string, paused: boolean): Promise<void>;

  // The peer: heartbeats and leadership.
  /** `signal` aborts a beat its caller gave up on, as for claim(). */
  beat(
    node: string,
    queues: readonly string[],
    first: boolean,
    report?: NodeReport,
    signal?: AbortSignal,
  ): Promise<Beat>;
  removeNode(node: string): Promise<void>;
  liveQueues(staleAfterMs: number): Promise<Set<string>>;
  claimLeadership(node: string, ttlMs: number, signal?: AbortSignal): Promise<boolean>;
  resignLeadership(node: string): Promise<void>;

  // The schema.
  migrate(): Promise<MigrationResult>;
  verifySchema(): Promise<void>;
}

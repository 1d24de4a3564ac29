import type { Executor } from '../database/executor.js';
import type { Ack } from './ack.js';
import type { ClaimedJob } from './claim.js';
import type { CronEntryChange, CronEntryRow, StoredCronEntry } from './cron-entries.js';
import type { FlowLimits, LimitedClaim } from './flow.js';
import type { InsertedJob, InsertPlan } from './insert.js';
import type { JobFilter, JobSelection } from './job-filter.js';
import type { MigrationResult } from './migrator.js';
import type { Beat } from './nodes.js';
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
  claim(queue: string, limit: number, node: string): Promise<ClaimedJob[]>;
  /** Claims from a queue with cluster-wide limits (flow-claim.ts); plain queues use `claim`. */
  claimLimited(queue: string, limit: number, node: string, flow: FlowLimits): Promise<LimitedClaim>;
  claimById(ids: readonly string[], node: string): Promise<ClaimedJob[]>;
  ack(acks: readonly Ack[]): Promise<void>;
  stage(limit?: number): Promise<number>;
  /** Makes the scheduled and retryable jobs of a scope available now, except `keep`. */
  stageNow(scope: StageScope, keep: readonly string[]): Promise<void>;
  rescue(deadAfterMs: number): Promise<number>;
  /**
   * Rescues the jobs a previous process under `node`'s name left executing (attempted before the
   * node row's `started_at`), whatever its heartbeat: a restarted node's own orphans, at once.
   */
  rescueRestarted(node: string): Promise<number>;
  prune(maxAgeSeconds: number, limit: number): Promise<number>;
  /**
   * Keeps the history ready: partitions for today and `daysAhead` days, and up to `moveLimit`
   * finished jobs still in `jobs` moved to it. Returns how many were moved.
   */
  maintainHistory(daysAhead: number, moveLimit: number): Promise<number>;
  cancel(selection: JobSelection): Promise<number>;
  retry(selection: JobSelection): Promise<number>;
  delete(selection: JobSelection): Promise<number>;

  // Reads.
  getJob(id: string): Promise<StoredJob | null>;
  listJobs(filter: JobFilter): Promise<StoredJob[]>;
  allJobs(filter: Omit<JobFilter, 'limit'>): Promise<StoredJob[]>;
  availableQueues(queue?: string): Promise<string[]>;
  availableIn(scope: { workflowId?: string; batchId?: string }): Promise<string[]>;
  recordedOf(id: string): Promise<StoredRecorded | null>;

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

  // Cron entries stored in the database (`koban.cron`).
  listCronEntries(): Promise<StoredCronEntry[]>;
  /** Null when an entry of that name exists. */
  insertCronEntry(entry: CronEntryRow): Promise<StoredCronEntry | null>;
  /** Null when there is no entry of that name. */
  updateCronEntry(name: string, change: CronEntryChange): Promise<StoredCronEntry | null>;
  deleteCronEntry(name: string): Promise<boolean>;
  /** Takes a tick of a stored entry in `tx`, the transaction that inserts its job; false when taken already. */
  claimCronTick(name: string, tick: Date, tx: Executor): Promise<boolean>;

  // The peer: heartbeats and leadership.
  beat(node: string, queues: readonly string[], first: boolean): Promise<Beat>;
  removeNode(node: string): Promise<void>;
  liveQueues(staleAfterMs: number): Promise<Set<string>>;
  claimLeadership(node: string, ttlMs: number): Promise<boolean>;
  resignLeadership(node: string): Promise<void>;

  // The schema.
  migrate(): Promise<MigrationResult>;
  verifySchema(): Promise<void>;
}

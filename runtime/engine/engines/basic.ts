import type { Database } from '../../database/database.js';
import type { Executor } from '../../database/executor.js';
import { type Ack, type AckDeadline, writeAcks } from '../ack.js';
import { type ChunkGroup, claimChunkJobs } from '../chunk-claim.js';
import {
  type ClaimedJob,
  claimJobs,
  claimJobsById,
  type QueueClaim,
  type QueueClaimOptions,
} from '../claim.js';
import { databaseTime } from '../clock.js';
import {
  batchSummaries,
  clusterNodes,
  cronRunJob,
  lastCronRuns,
  queueCounts,
  type StoredBatchSummary,
  type StoredCluster,
  type StoredCronRun,
  type StoredFlowSummary,
  type StoredQueueCounts,
  workflowSummaries,
} from '../cluster-reads.js';
import { cancelJobs, deleteJobs, retryJobs } from '../commands.js';
import type { EngineContext, InsertHook } from '../context.js';
import {
  type CronEntryChange,
  type CronEntryRow,
  claimCronTick,
  cronFingerprint,
  deleteCronEntry,
  insertCronEntry,
  listCronEntries,
  type StoredCronEntry,
  updateCronEntry,
} from '../cron-entries.js';
import { cronPaused, pausedCronNames, setCronPaused } from '../cron-pauses.js';
import { expireDeadlines } from '../deadlines.js';
import type { Engine } from '../engine.js';
import type { EngineExtension } from '../extension.js';
import type { FlowLimits, LimitedClaim, LimitedClaimOptions } from '../flow.js';
import { claimLimited } from '../flow-claim.js';
import { listenWorks, readHealth, type StoredHealth } from '../health.js';
import { maintainHistory } from '../history.js';
import { type Holdings, reconcileHoldings } from '../holdings.js';
import { type InsertedJob, type InsertPlan, insertPlan } from '../insert.js';
import type { JobFilter, JobSelection } from '../job-filter.js';
import { countJobs, type JobKeyset, type StoredJobPage, searchIds, searchJobs } from '../job-pages.js';
import {
  allJobs,
  availableIn,
  availableQueues,
  getJob,
  jobsByIds,
  listJobs,
  queuesWithAvailable,
  recordedOf,
} from '../job-reads.js';
import type { JobSearch } from '../job-search.js';
import { claimLeadership, resignLeadership } from '../leadership.js';
import {
  type MetricsRange,
  type MetricsRow,
  type MetricsWireRow,
  pruneMetrics,
  readMetrics,
  writeMetrics,
} from '../metrics-history.js';
import { type MigrationResult, migrate, verifySchema } from '../migrator.js';
import { type Beat, beat, liveQueues, type NodeReport, removeNode } from '../nodes.js';
import { type AgingScope, agePriorities } from '../priority-aging.js';
import { setProgress } from '../progress.js';
import {
  deletePruneRule,
  listPruneRules,
  type PruneMatch,
  pruneWithRules,
  type StoredPruneRule,
  setPruneRule,
} from '../prune-rules.js';
import { type QueueGauge, queueGauges } from '../queue-gauges.js';
import { type QueueChange, readQueueStates, type StoredQueueState, storeQueueState } from '../queues.js';
import type { StoredJob, StoredRecorded } from '../records.js';
import { rescueOrphans } from '../rescue.js';
import { insertChannel, type Signal, signal, signalChannel, stillExecuting } from '../signals.js';
import { type StageScope, stageDueJobs, stageNow } from '../stage.js';

const dayMs = 86_400_000;

/** The context an engine and its extensions share; extensions are added once they exist. */
export function engineContext(
  database: Database,
  schema: string,
  options: { keepHistory?: boolean; insertHook?: InsertHook | undefined } = {},
): EngineContext & { extensions: EngineExtension[] } {
  return {
    database,
    schema,
    extensions: [],
    keepHistory: options.keepHistory ?? true,
    insertHook: options.insertHook,
  };
}

/**
 * The engine that runs every operation as statements on the database, in its own folder of one
 * file per operation. One implementation serves postgres.js and PGlite: the Database hides the
 * driver, and the statements read and write values in a form every driver shares.
 */
export class BasicEngine implements Engine {
  constructor(readonly context: EngineContext) {}

  get schema(): string {
    return this.context.schema;
  }

  get kind(): 'postgres' | 'pglite' {
    return this.context.database.kind;
  }

  transaction<T>(work: (tx: Executor) => Promise<T>): Promise<T> {
    return this.context.database.transaction(work);
  }

  insert(plan: InsertPlan, tx?: Executor): Promise<InsertedJob[]> {
    return insertPlan(this.context, plan, tx);
  }

  /** Jobs just inserted stay for the producers: returned as they are. */
  inserted(jobs: InsertedJob[], _tx: Executor | undefined): Promise<InsertedJob[]> {
    return Promise.resolve(jobs);
  }

  async claim(queue: string, limit: number, node: string, signal?: AbortSignal): Promise<ClaimedJob[]> {
    return (await claimJobs(this.context, queue, limit, node, { signal })).jobs;
  }

  claimQueue(queue: string, limit: number, node: string, options: QueueClaimOptions): Promise<QueueClaim> {
    return claimJobs(this.context, queue, limit, node, options);
  }

  claimLimited(
    queue: string,
    limit: number,
    node: string,
    flow: FlowLimits,
    options?: LimitedClaimOptions,
  ): Promise<LimitedClaim> {
    return claimLimited(this.context, queue, limit, node, flow, options);
  }

  claimById(ids: readonly string[], node: string): Promise<ClaimedJob[]> {
    return claimJobsById(this.context, ids, node);
  }

  claimChunk(group: ChunkGroup, limit: number, node: string): Promise<ClaimedJob[]> {
    return claimChunkJobs(this.context, group, limit, node);
  }

  ack(acks: readonly Ack[], deadline?: AckDeadline): Promise<void> {
    return writeAcks(this.context, acks, deadline);
  }

  stage(limit?: number): Promise<number> {
    return stageDueJobs(this.context, limit);
  }

  stageNow(scope: StageScope, keep: readonly string[]): Promise<void> {
    return stageNow(this.context, scope, keep);
  }

  rescue(deadAfterMs: number): Promise<number> {
    return rescueOrphans(this.context, deadAfterMs);
  }

  expireDeadlines(limit?: number): Promise<number> {
    return expireDeadlines(this.context, limit);
  }

  databaseTime(): Promise<number> {
    return databaseTime(this.context);
  }

  reconcileHoldings(node: string, known: readonly string[], graceMs: number): Promise<Holdings> {
    return reconcileHoldings(this.context, node, known, graceMs);
  }

  setProgress(id: string, attempt: number, progress: string): Promise<boolean> {
    return setProgress(this.context, id, attempt, progress);
  }

  rescueRestarted(node: string): Promise<number> {
    // The node has just beaten: only attempts older than its start are taken, whatever the age.
    return rescueOrphans(this.context, dayMs, { node });
  }

  prune(maxAgeSeconds: number, limit: number): Promise<number> {
    return pruneWithRules(this.context, maxAgeSeconds, limit);
  }

  agePriorities(scope: AgingScope): Promise<number> {
    return agePriorities(this.context, scope);
  }

  listPruneRules(): Promise<StoredPruneRule[]> {
    return listPruneRules(this.context);
  }

  setPruneRule(match: PruneMatch, maxAge: number | null): Promise<StoredPruneRule> {
    return setPruneRule(this.context, match, maxAge);
  }

  deletePruneRule(match: PruneMatch): Promise<boolean> {
    return deletePruneRule(this.context, match);
  }

  maintainHistory(daysAhead: number, moveLimit: number): Promise<number> {
    return maintainHistory(this.context, daysAhead, moveLimit);
  }

  cancel(selection: JobSelection, reason?: string): Promise<number> {
    return cancelJobs(this.context, selection, reason);
  }

  retry(selection: JobSelection): Promise<number> {
    return retryJobs(this.context, selection);
  }

  delete(selection: JobSelection): Promise<number> {
    return deleteJobs(this.context, selection);
  }

  getJob(id: string): Promise<StoredJob | null> {
    return getJob(this.context, id);
  }

  listJobs(filter: JobFilter): Promise<StoredJob[]> {
    return listJobs(this.context, filter);
  }

  jobsByIds(ids: readonly string[]): Promise<StoredJob[]> {
    return jobsByIds(this.context, ids);
  }

  allJobs(filter: Omit<JobFilter, 'limit'>): Promise<StoredJob[]> {
    return allJobs(this.context, filter);
  }

  queuesWithAvailable(queues: readonly string[]): Promise<string[]> {
    return queuesWithAvailable(this.context, queues);
  }

  availableQueues(queue?: string): Promise<string[]> {
    return availableQueues(this.context, queue);
  }

  availableIn(scope: { workflowId?: string; batchId?: string }): Promise<string[]> {
    return availableIn(this.context, scope);
  }

  recordedOf(id: string): Promise<StoredRecorded | null> {
    return recordedOf(this.context, id);
  }

  searchJobs(search: JobSearch, page: JobKeyset, timeoutMs: number): Promise<StoredJobPage> {
    return searchJobs(this.context, search, page, timeoutMs);
  }

  countJobs(search: JobSearch, timeoutMs: number): Promise<number> {
    return countJobs(this.context, search, timeoutMs);
  }

  searchIds(search: JobSearch, page: JobKeyset, timeoutMs: number): Promise<string[]> {
    return searchIds(this.context, search, page, timeoutMs);
  }

  queueCounts(): Promise<StoredQueueCounts[]> {
    return queueCounts(this.context);
  }

  clusterNodes(): Promise<StoredCluster> {
    return clusterNodes(this.context);
  }

  lastCronRuns(): Promise<StoredCronRun[]> {
    return lastCronRuns(this.context);
  }

  cronRunJob(uniqueKey: string): Promise<string | null> {
    return cronRunJob(this.context, uniqueKey);
  }

  workflowSummaries(limit: number): Promise<StoredFlowSummary[]> {
    return workflowSummaries(this.context, limit);
  }

  batchSummaries(limit: number): Promise<StoredBatchSummary[]> {
    return batchSummaries(this.context, limit);
  }

  readHealth(): Promise<StoredHealth> {
    return readHealth(this.context);
  }

  listenWorks(timeoutMs: number): Promise<boolean> {
    return listenWorks(this.context, timeoutMs);
  }

  readQueueStates(): Promise<Map<string, StoredQueueState>> {
    return readQueueStates(this.context);
  }

  storeQueueState(queue: string, change: QueueChange): Promise<StoredQueueState> {
    return storeQueueState(this.context, queue, change);
  }

  signal(message: Signal): Promise<void> {
    return signal(this.context, message);
  }

  listenInserts(onQueue: (queue: string) => void, onRelisten: () => void): Promise<() => Promise<void>> {
    return this.context.database.listen(insertChannel(this.schema), onQueue, onRelisten);
  }

  listenSignals(onSignal: (signal: Signal) => void): Promise<() => Promise<void>> {
    return this.context.database.listen(signalChannel(this.schema), (payload) => {
      let message: Signal;
      try {
        message = JSON.parse(payload) as Signal;
      } catch {
        return; // not one of Koban's: someone else's NOTIFY on the channel
      }
      onSignal(message);
    });
  }

  listens(): boolean {
    return this.context.database.listens;
  }

  stillExecuting(ids: readonly string[]): Promise<string[]> {
    return stillExecuting(this.context, ids);
  }

  writeMetrics(rows: readonly MetricsRow[]): Promise<void> {
    return writeMetrics(this.context, rows);
  }

  readMetrics(range: MetricsRange): Promise<MetricsWireRow[]> {
    return readMetrics(this.context, range);
  }

  pruneMetrics(maxAgeSeconds: number): Promise<number> {
    return pruneMetrics(this.context, maxAgeSeconds);
  }

  queueGauges(): Promise<QueueGauge[]> {
    return queueGauges(this.context);
  }

  listCronEntries(): Promise<StoredCronEntry[]> {
    return listCronEntries(this.context);
  }

  cronFingerprint(): Promise<string> {
    return cronFingerprint(this.context);
  }

  insertCronEntry(entry: CronEntryRow): Promise<StoredCronEntry | null> {
    return insertCronEntry(this.context, entry);
  }

  updateCronEntry(name: string, change: CronEntryChange): Promise<StoredCronEntry | null> {
    return updateCronEntry(this.context, name, change);
  }

  deleteCronEntry(name: string): Promise<boolean> {
    return deleteCronEntry(this.context, name);
  }

  claimCronTick(name: string, tick: Date, tx: Executor): Promise<boolean> {
    return claimCronTick(this.context, name, tick, tx);
  }

  pausedCronNames(): Promise<Set<string>> {
    return pausedCronNames(this.context);
  }

  cronPaused(name: string): Promise<boolean> {
    return cronPaused(this.context, name);
  }

  setCronPaused(name: string, paused: boolean): Promise<void> {
    return setCronPaused(this.context, name, paused);
  }

  beat(
    node: string,
    queues: readonly string[],
    first: boolean,
    report?: NodeReport,
    signal?: AbortSignal,
  ): Promise<Beat> {
    return beat(this.context, node, queues, first, report, signal);
  }

  removeNode(node: string): Promise<void> {
    return removeNode(this.context, node);
  }

  liveQueues(staleAfterMs: number): Promise<Set<string>> {
    return liveQueues(this.context, staleAfterMs);
  }

  claimLeadership(node: string, ttlMs: number, signal?: AbortSignal): Promise<boolean> {
    return claimLeadership(this.context, node, ttlMs, signal);
  }

  resignLeadership(node: string): Promise<void> {
    return resignLeadership(this.context, node);
  }

  async migrate(): Promise<MigrationResult> {
    const result = await migrate(this.context.database, this.schema);
    await maintainHistory(this.context, 3, 0);
    return result;
  }

  verifySchema(): Promise<void> {
    return verifySchema(this.context.database, this.schema);
  }
}

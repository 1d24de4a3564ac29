export type {
  CronEntries,
  CronEntry,
  CronWorker,
  KobanConfig,
  QueueConfig,
} from './runtime/config.js';
export type { DrizzleDatabase, Executor } from './runtime/database/executor.js';
export type { DatabaseInput } from './runtime/database/open-database.js';
export type {
  StoredBatchSummary as BatchSummary,
  StoredFlowSummary as WorkflowSummary,
} from './runtime/engine/cluster-reads.js';
export type { CronJobOptions } from './runtime/engine/cron-entries.js';
export type { ChainFailure, PartitionBy } from './runtime/engine/flow.js';
export type { InsertedJob } from './runtime/engine/insert.js';
export type { JobFilter, JobId, JobSelection } from './runtime/engine/job-filter.js';
export type { JobPageRequest, JobSearch, TimeRange } from './runtime/engine/job-search.js';
export { histogramBoundsMs } from './runtime/engine/metrics-history.js';
export type { MigrationResult } from './runtime/engine/migrator.js';
export {
  allJobs,
  batches,
  jobHistory,
  jobMetrics,
  jobs,
  type KobanTables,
  kobanTables,
  leaders,
  nodes,
  queues,
  schemaVersions,
  workflowDeps,
  workflows,
} from './runtime/engine/tables.js';
export {
  type AwaitOptions,
  type InsertOptions,
  Koban,
  type QueueStatus,
  type WorkflowResult,
} from './runtime/koban.js';
export type {
  JobExceptionEvent,
  JobProgressEvent,
  JobStartEvent,
  JobStopEvent,
  KobanEvents,
  LeadershipEvent,
  RescueEvent,
} from './runtime/node/events.js';
export type { QueueFlowChange, QueueFlowOptions } from './runtime/node/flow-options.js';
export type { AfterProcessHook, BeforeProcessHook, KobanHooks } from './runtime/node/hooks.js';
export type { KobanLogger, LogDetails, LogLevel, LogMethod } from './runtime/node/logger.js';
export {
  type BulkOptions,
  type BulkProgress,
  type BulkResult,
  type BulkTarget,
  type ConnectOptions,
  type CronOverview,
  type JobDetail,
  type JobPage,
  KobanOps,
  type NodeOverview,
  type Overview,
  type QueueOverview,
} from './runtime/ops/ops.js';
export type {
  CronControl,
  CronEntryInfo,
  CronJobSettings,
  StoredCronChanges,
  StoredCronInput,
} from './runtime/plugins/cron-control.js';
export type { KobanPlugin, PluginContext } from './runtime/plugins/plugin.js';
export { type PriorityAgingOptions, priorityAging } from './runtime/plugins/priority-aging.js';
export type { PruneControl, PruneRule, PruneRuleMatch } from './runtime/plugins/prune-control.js';
export type { MetricsHistoryQuery, MetricsPoint, TimeSummary } from './runtime/telemetry/metrics-points.js';
export type { OpenTelemetryOptions } from './runtime/telemetry/open-telemetry.js';
export type { BeforeNewHook, NewJobOfWorker } from './runtime/workers/before-new.js';
export type { InsertAllOptions, InsertSource, JobSource } from './runtime/workers/insert-all.js';
export * from './sdk/index.js';

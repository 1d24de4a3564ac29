export type {
  CronEntries,
  CronEntry,
  CronWorker,
  KobanConfig,
  QueueConfig,
} from './runtime/config.js';
export type { DrizzleDatabase, Executor } from './runtime/database/executor.js';
export type { DatabaseInput } from './runtime/database/open-database.js';
export type { CronJobOptions } from './runtime/engine/cron-entries.js';
export type { ChainFailure, PartitionBy } from './runtime/engine/flow.js';
export type { InsertedJob } from './runtime/engine/insert.js';
export type { JobFilter, JobId, JobSelection } from './runtime/engine/job-filter.js';
export type { MigrationResult } from './runtime/engine/migrator.js';
export {
  batches,
  jobHistory,
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
export { type InsertOptions, Koban, type QueueStatus } from './runtime/koban.js';
export type { JobExceptionEvent, JobStartEvent, JobStopEvent, KobanEvents } from './runtime/node/events.js';
export type { QueueFlowChange, QueueFlowOptions } from './runtime/node/flow-options.js';
export type { AfterProcessHook, BeforeProcessHook, KobanHooks } from './runtime/node/hooks.js';
export type { KobanLogger } from './runtime/node/logger.js';
export type {
  CronControl,
  CronEntryInfo,
  CronJobSettings,
  StoredCronChanges,
  StoredCronInput,
} from './runtime/plugins/cron-control.js';
export type { KobanPlugin, PluginContext } from './runtime/plugins/plugin.js';
export type { InsertAllOptions, InsertSource, JobSource } from './runtime/workers/insert-all.js';
export * from './sdk/index.js';

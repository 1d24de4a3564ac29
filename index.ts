export type {
  CronEntries,
  CronEntry,
  CronWorker,
  KobanConfig,
  KobanLogger,
  QueueConfig,
} from './runtime/config.js';
export type { DatabaseInput, DrizzleDatabase, Executor } from './runtime/database/database.js';
export type { InsertedJob } from './runtime/engine/insert.js';
export type { InsertAllOptions, InsertSource, JobSource } from './runtime/insert-all.js';
export type { JobFilter, JobId, JobSelection } from './runtime/job-queries.js';
export { type InsertOptions, Koban, type QueueStatus } from './runtime/koban.js';
export type { MigrationResult } from './runtime/migrator.js';
export type { JobExceptionEvent, JobStartEvent, JobStopEvent, KobanEvents } from './runtime/node/events.js';
export type { AfterProcessHook, BeforeProcessHook, KobanHooks } from './runtime/node/hooks.js';
export type { KobanPlugin, PluginContext } from './runtime/plugin.js';
export {
  batches,
  jobs,
  type KobanTables,
  kobanTables,
  leaders,
  nodes,
  queues,
  schemaVersions,
  workflowDeps,
  workflows,
} from './runtime/schema.js';
export * from './sdk/index.js';

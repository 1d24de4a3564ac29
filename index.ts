export type {
  CronEntries,
  CronEntry,
  CronWorker,
  KobanConfig,
  KobanLogger,
  QueueConfig,
} from './runtime/config.js';
export type { DatabaseInput, DrizzleDatabase, Executor } from './runtime/database.js';
export type { JobExceptionEvent, JobStartEvent, JobStopEvent, KobanEvents } from './runtime/events.js';
export type { AfterProcessHook, BeforeProcessHook, KobanHooks } from './runtime/hooks.js';
export type { InsertedJob } from './runtime/insert.js';
export type { InsertAllOptions, JobSource } from './runtime/insert-all.js';
export type { JobFilter, JobId, JobSelection } from './runtime/job-queries.js';
export { type InsertOptions, Koban, type QueueStatus } from './runtime/koban.js';
export type { MigrationResult } from './runtime/migrator.js';
export {
  jobs,
  type KobanTables,
  kobanTables,
  leaders,
  nodes,
  queues,
  schemaVersions,
} from './runtime/schema.js';
export * from './sdk/index.js';

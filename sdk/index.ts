export type { Codec } from './codec.js';
export { Encrypted, Recorded, Structured, Worker, type WorkerDecorator } from './decorators.js';
export {
  KobanConfigError,
  KobanDatabaseError,
  KobanEncryptionError,
  KobanError,
  KobanMigrationError,
  KobanRecordedLimitError,
  KobanShutdownError,
  KobanTimeoutError,
  KobanUnknownWorkerError,
  KobanValidationError,
  type ValidationIssue,
} from './errors.js';
export {
  finalStates,
  type Job,
  type JobError,
  type JobRecord,
  type JobState,
  type JsonObject,
  jobStates,
} from './job.js';
export type { JobBuilder } from './job-builder.js';
export { isJobSpec, type JobOptions, type JobSpec, newJob } from './job-spec.js';
export type {
  CarriesResult,
  FetchRecordedOptions,
  RecordedFetcher,
  RecordedJobRef,
  RecordedMissingReason,
  RecordedReader,
  RecordedValue,
} from './recorded.js';
export {
  defineWorker,
  getWorkerDefinition,
  isWorkerClass,
  registeredWorkers,
  type WorkerDefinition,
  type WorkerEntry,
} from './registry.js';
export { type ControlOutcome, cancel, discard, isControlOutcome, snooze } from './results.js';
export type {
  ArgsOf,
  ProcessOutcome,
  ProcessResult,
  ResultOf,
  WorkerClass,
  WorkerInstance,
} from './worker.js';
export type {
  EncryptedOptions,
  EncryptionKey,
  RecordedOptions,
  ReplaceField,
  StructuredOptions,
  UniqueField,
  UniqueOptions,
  UniqueStates,
  WorkerOptions,
} from './worker-options.js';
export {
  isWorkflow,
  type StepNameTaken,
  type StepOptions,
  type Workflow,
  type WorkflowOptions,
  type WorkflowStep,
  type WorkflowSteps,
  workflow,
} from './workflow.js';

export { type Batch, type BatchOptions, batch, isBatch } from './batch.js';
export {
  type BatchCallback,
  type BatchCallbacks,
  type BatchHandlerName,
  type BatchStatus,
  batchCallbacks,
  type JobBatch,
} from './batch-context.js';
export {
  type Cascade,
  type CascadeArgs,
  type CascadeInput,
  cascade,
  isCascade,
  KobanCascade,
} from './cascade.js';
export type { ChunkBy, ChunkJobOutcome, ChunkOptions, ChunkResult } from './chunk.js';
export type { Codec } from './codec.js';
export type { Deadline, DeadlineAction } from './deadline.js';
export { Encrypted, Recorded, Structured, Worker, type WorkerDecorator } from './decorators.js';
export {
  KobanAssertionError,
  KobanAwaitTimeoutError,
  KobanBatchError,
  KobanConfigError,
  KobanDatabaseError,
  KobanEncryptionError,
  KobanError,
  type KobanErrorCode,
  KobanJobCancelledError,
  KobanJobFailedError,
  KobanMigrationError,
  KobanRecordedLimitError,
  KobanShutdownError,
  KobanTimeoutError,
  KobanUnknownKeyError,
  KobanUnknownWorkerError,
  KobanValidationError,
  KobanWorkflowError,
  type ValidationIssue,
} from './errors.js';
export { type WorkerHooks, workerFunction } from './function-worker.js';
export type { Job, JobError, JobProgress, JobRecord, JsonObject } from './job.js';
export type { JobBuilder } from './job-builder.js';
export { isJobSpec, type JobOptions, type JobSpec, newJob } from './job-spec.js';
export { toMermaid } from './mermaid.js';
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
  workerAliases,
} from './registry.js';
export { type ControlOutcome, cancel, discard, isControlOutcome, snooze } from './results.js';
export {
  type FinalState,
  finalStates,
  type InitialState,
  incompleteStates,
  isFinalState,
  type JobState,
  jobStates,
} from './states.js';
export type {
  ArgsOf,
  BeforeProcessResult,
  NewJob,
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
  type GraftStep,
  isWorkflow,
  type ManySteps,
  type StepFlags,
  type StepKind,
  type StepNameTaken,
  type StepOptions,
  type StepResult,
  type Workflow,
  type WorkflowOptions,
  type WorkflowResults,
  type WorkflowStep,
  type WorkflowSteps,
  type WorkflowUnique,
  workflow,
} from './workflow.js';
export type {
  JobWorkflow,
  WorkerLike,
  WorkflowAppender,
  WorkflowJobsFilter,
  WorkflowStatus,
  WorkflowStepStatus,
  WorkflowStreamOptions,
} from './workflow-context.js';

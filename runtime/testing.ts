// The `koban/testing` entry: helpers for tests of code that uses Koban.

export { type TestingMode, withTestingMode } from './engine/engines/testing-mode.js';
export { type DrainOptions, type DrainResult, drainJobs } from './testing/drain.js';
export {
  type AssertEnqueuedOptions,
  allEnqueued,
  assertEnqueued,
  type EnqueuedFilter,
  refuteEnqueued,
} from './testing/enqueued.js';
export { type PerformOptions, performJob, type WorkerRef } from './testing/perform.js';
export {
  type BatchRun,
  type JobOutcome,
  runBatch,
  runWorkflow,
  type StepOutcomes,
  type WorkflowRun,
} from './testing/run-flows.js';

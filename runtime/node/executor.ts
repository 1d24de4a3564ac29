import type { JobBatch } from '../../sdk/batch-context.js';
import { type BatchCallback, handlerName } from '../../sdk/batch-context.js';
import { longestDelaySeconds } from '../../sdk/due-time.js';
import {
  KobanBatchError,
  KobanConfigError,
  KobanShutdownError,
  KobanTimeoutError,
  KobanUnknownKeyError,
  KobanUnknownWorkerError,
} from '../../sdk/errors.js';
import type { Job, JobError } from '../../sdk/job.js';
import { type ControlOutcome, isControlOutcome } from '../../sdk/results.js';
import { storableText } from '../../sdk/storable-text.js';
import type { ProcessOutcome } from '../../sdk/worker.js';
import type { JobWorkflow } from '../../sdk/workflow-context.js';
import type { Ack } from '../engine/ack.js';
import type { ClaimedJob } from '../engine/claim.js';
import type { MetricsRollup } from '../telemetry/metrics-rollup.js';
import type { JobTelemetry } from '../telemetry/tracing.js';
import { recordValue } from '../workers/recorded.js';
import { unstorableRecord } from '../workers/recorded-value.js';
import { decodeStoredArgs } from '../workers/stored-args.js';
import type { RunnableWorker, WorkerCatalog } from '../workers/worker-catalog.js';
import { defaultBackoff } from './backoff.js';
import { late, valueWithin } from './deadline.js';
import type { KobanEventEmitter } from './events.js';
import type { BeforeProcessHook, ProcessHooks } from './hooks.js';
import { JobAbort } from './job-abort.js';
import { attemptJob, jobWithArgs } from './job-object.js';
import type { KobanLogger } from './logger.js';
import type { ProgressSink } from './progress.js';

/** Builds `job.workflow` and `job.batch` for the jobs that have them, when they are first read. */
export interface JobContexts {
  workflow(job: ClaimedJob): JobWorkflow;
  batch(job: ClaimedJob): JobBatch;
}

export interface ExecutorDeps {
  readonly catalog: WorkerCatalog;
  readonly events: KobanEventEmitter;
  readonly logger: KobanLogger;
  readonly node: string;
  /** `koban.hooks`: run around every attempt. */
  readonly hooks?: ProcessHooks;
  readonly contexts?: JobContexts;
  /**
   * The ids of the jobs this node holds, from their claim until their outcome is written, by
   * producers and the drainer alike: the node gives back jobs executing under its name that are
   * not among them (see convergence.ts).
   */
  readonly held?: Set<string>;
  /** Where `job.progress(value)` is written; without it, progress is checked and dropped. */
  readonly progress?: ProgressSink;
  /** The node's metrics history, which every ended attempt is added to (producers only). */
  readonly metrics?: MetricsRollup;
  /** OpenTelemetry spans and metrics, when the application asked for them. */
  readonly telemetry?: JobTelemetry | undefined;
}

/** A job while it runs on this node; `abort` is how cancel and shutdown reach it. */
export interface RunningJob {
  readonly id: string;
  readonly abort: JobAbort;
}

/** What an attempt came to: the outcome hooks and events see, and the ack the engine writes. */
export interface Attempt {
  readonly outcome: ProcessOutcome;
  readonly ack: Ack;
}

/** Longest wait before a node without the job's worker gives it back to the queue again. */
const unknownWorkerMaxDelaySeconds = 3600;

/**
 * Runs one claimed job: decodes its args, calls the worker (or, for a batch callback job, the
 * callback method) with a timeout, and turns whatever happened into an Ack. It never throws:
 * every failure becomes an outcome on the job. The same code runs jobs for producers and for
 * the testing helpers.
 */
export async function executeJob(
  claimed: ClaimedJob,
  deps: ExecutorDeps,
  running: Map<string, RunningJob>,
): Promise<Attempt> {
  const { id } = claimed;
  const entry = deps.catalog.get(claimed.worker);
  if (!entry) {
    const unknown = new KobanUnknownWorkerError(claimed.worker, deps.catalog.names(), deps.node);
    return measured(claimed, giveBack(claimed, unknown), 0, deps);
  }
  let args: unknown;
  try {
    args = decodeStoredArgs(entry, claimed.args, claimed);
  } catch (error) {
    return unopened(claimed, error, deps);
  }
  const abort = new JobAbort();
  const { contexts } = deps;
  const job = attemptJob(claimed, args, {
    abort,
    workflow: claimed.workflowId !== null && contexts ? () => contexts.workflow(claimed) : undefined,
    batch: claimed.batchId !== null && contexts ? () => contexts.batch(claimed) : undefined,
    progress: deps.progress,
  });
  // The job as `process` gets it: a `beforeProcess` hook may hand on other args.
  const current = { job };
  running.set(id, { id, abort });
  const observed = deps.events.observesJobs;
  const queueTime = observed
    ? Math.max(0, (job.attemptedAt?.getTime() ?? Date.now()) - job.scheduledAt.getTime())
    : 0;
  if (observed) deps.events.emit('job:start', { job, queueTime });
  const { telemetry } = deps;
  const starting = telemetry?.start(claimed);
  const span = starting instanceof Promise ? await starting : starting;
  const started = performance.now();
  let attempt: Attempt;
  try {
    const callback = claimed.batchCallback as BatchCallback | null;
    const result = span
      ? await telemetry!.within(span, () => runWithTimeout(entry, current, callback, abort, deps))
      : await runWithTimeout(entry, current, callback, abort, deps);
    const recorded =
      entry.definition.recorded && claimed.batchCallback === null && !isControlOutcome(result)
        ? await storedValue(entry, current.job, result, deps)
        : undefined;
    attempt = settle(claimed, result, recorded);
  } catch (error) {
    attempt = failed(claimed, current.job, entry, error, abort, deps);
  } finally {
    running.delete(id);
  }
  // The last progress the attempt set is written before its outcome: after the ack, the row may be in the history.
  const progressWritten = deps.progress?.settle(id);
  if (progressWritten) await progressWritten;
  if (entry.instance.afterProcess || deps.hooks?.hasAfter)
    await runAfterHook(entry, current.job, attempt.outcome, deps);
  if (attempt.ack.state === 'discarded' || attempt.ack.state === 'cancelled')
    logFinalFailure(claimed, attempt.ack, deps);
  const runTime = performance.now() - started;
  if (deps.metrics) measured(claimed, attempt, runTime, deps);
  const ending = telemetry?.end(span, claimed, attempt, runTime);
  if (ending) await ending;
  if (!observed) return attempt;
  const { outcome } = attempt;
  if (outcome.kind === 'error') {
    deps.events.emit('job:exception', { job, queueTime, runTime, outcome, error: outcome.error });
  } else {
    deps.events.emit('job:stop', { job, queueTime, runTime, outcome });
  }
  return attempt;
}

/** The attempt of a job whose args cannot be opened: it never reaches `process`. */
export function unopened(claimed: ClaimedJob, error: unknown, deps: ExecutorDeps): Attempt {
  // In a rolling key rotation, a node without the new key leaves the job to one that has it.
  if (error instanceof KobanUnknownKeyError)
    return measured(claimed, giveBackForKey(claimed, error, deps), 0, deps);
  // Args that no longer fit the worker's contract (or fail decryption) would fail the same way on every retry.
  const entryError = errorEntry(claimed.attempt, error);
  const cancelled: Attempt = {
    outcome: { kind: 'cancelled', reason: entryError.error },
    ack: { job: claimed, state: 'cancelled', error: entryError },
  };
  logFinalFailure(claimed, cancelled.ack, deps);
  return measured(claimed, cancelled, 0, deps);
}

/** Adds the attempt to the node's metrics history, if it keeps one; returns the attempt. */
export function measured(claimed: ClaimedJob, attempt: Attempt, runMs: number, deps: ExecutorDeps): Attempt {
  const queueMs = (claimed.attemptedAt?.getTime() ?? Date.now()) - claimed.scheduledAt.getTime();
  deps.metrics?.record(claimed.queue, claimed.worker, attempt.ack.state, runMs, Math.max(queueMs, 0));
  return attempt;
}

/**
 * A job that will not run again is worth a line in the log: a discarded one (out of attempts, or
 * by `discard(reason)`) as a warning, a cancelled one as information. With its worker, id,
 * attempt and error, and never its args.
 */
export function logFinalFailure(claimed: ClaimedJob, { state, error }: Ack, deps: ExecutorDeps): void {
  const details = {
    id: claimed.id,
    worker: claimed.worker,
    queue: claimed.queue,
    attempt: claimed.attempt,
    maxAttempts: claimed.maxAttempts,
    error: error?.error,
  };
  const reason = error ? `: ${error.error}` : '';
  if (state === 'discarded')
    deps.logger.warn(
      details,
      `job ${claimed.id} (${claimed.worker}) discarded at attempt ${claimed.attempt} of ${claimed.maxAttempts}${reason}`,
    );
  else deps.logger.info(details, `job ${claimed.id} (${claimed.worker}) cancelled${reason}`);
}

/**
 * A job whose worker this node does not run, or whose args name a key it does not have, goes
 * back to the queue with its attempt given back and the reason kept in its errors: in a rolling
 * deploy or key rotation, a node with the worker or key runs it. The wait doubles with each
 * give-back of the same kind, from a second up to an hour, so that a worker or key no node has
 * any more costs little. Nothing is cancelled or discarded for it.
 */
export function giveBack(claimed: ClaimedJob, error: Error): Attempt {
  const earlier = claimed.errors.filter((entry) => entry.error.includes(error.name)).length;
  const seconds = Math.min(2 ** earlier, unknownWorkerMaxDelaySeconds);
  return {
    outcome: { kind: 'snoozed', seconds },
    ack: {
      job: claimed,
      state: 'scheduled',
      delayMs: seconds * 1000,
      refund: true,
      error: errorEntry(claimed.attempt, error),
    },
  };
}

export function giveBackForKey(
  claimed: ClaimedJob,
  error: KobanUnknownKeyError,
  deps: ExecutorDeps,
): Attempt {
  const given = new KobanUnknownKeyError(
    `${error.message}. Node ${deps.node} gave the job back to the queue, with its attempt, for a node that has the key`,
    error.keyId,
  );
  deps.logger.warn(given.message);
  return giveBack(claimed, given);
}

/**
 * What a `@Recorded` job stores: its value, or, when the value cannot be stored (over the limit,
 * or not storable without a result codec), the reason in its place. `process` has run and may
 * have had side effects: failing the attempt would run them again, so the job completes, and
 * `fetchRecorded` answers `not_storable` with the reason.
 */
export async function storedValue(
  entry: RunnableWorker,
  job: Job<unknown>,
  result: unknown,
  deps: ExecutorDeps,
) {
  try {
    return await recordValue(entry, result);
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    deps.logger.warn(
      { id: job.id, worker: entry.definition.name, error: reason },
      `job ${job.id} (${entry.definition.name}) completed, but its value was not recorded: ${reason}`,
    );
    deps.events.emit('error', { source: `recording job ${job.id}`, error });
    return unstorableRecord(storableText(reason));
  }
}

async function runWithTimeout(
  entry: RunnableWorker,
  current: { job: Job<unknown> },
  callback: BatchCallback | null,
  abort: JobAbort,
  deps: ExecutorDeps,
): Promise<unknown> {
  const { timeout } = entry.definition;
  const perform = () =>
    callback === null ? entry.instance.process(current.job) : runCallback(entry, current.job, callback);
  const work =
    entry.instance.beforeProcess || deps.hooks?.hasBefore
      ? runBeforeHooks(entry, current, deps).then((stop) => stop ?? perform())
      : perform();
  if (timeout === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  let timedOut: Promise<void> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new KobanTimeoutError(entry.definition.name, timeout);
      abort.abort(error);
      if (entry.instance.onTimeout) timedOut = runTimeoutHook(entry, current.job, error, timeout, deps);
      reject(error);
    }, timeout);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
    // The attempt is recorded as failed only once the worker's onTimeout has run.
    if (timedOut) await timedOut;
  }
}

/**
 * The worker's `onTimeout(job, error)`, given as long again as the attempt had: a hook that
 * throws or outlasts that is reported, and the attempt fails with the timeout either way.
 */
export async function runTimeoutHook(
  entry: RunnableWorker,
  job: Job<unknown>,
  error: KobanTimeoutError,
  timeout: number,
  deps: ExecutorDeps,
): Promise<void> {
  const source = `${entry.definition.name}.onTimeout`;
  try {
    const finished = await valueWithin(Promise.resolve(entry.instance.onTimeout!(job, error)), timeout);
    if (finished === late) reportHookError(source, job, new KobanTimeoutError(source, timeout), deps);
  } catch (hookError) {
    reportHookError(source, job, hookError, deps);
  }
}

/** A batch callback job runs the worker's `handle…` method; a missing one fails the attempt. */
function runCallback(entry: RunnableWorker, job: Job<unknown>, callback: BatchCallback): unknown {
  const method = handlerName(callback);
  const handler = (entry.instance as unknown as Record<string, unknown>)[method];
  if (typeof handler !== 'function') {
    throw new KobanBatchError(
      `${entry.definition.name} has no ${method}(job) method, but batch ${job.batch?.id} named it as its callback worker`,
    );
  }
  return handler.call(entry.instance, job);
}

export function settle(claimed: ClaimedJob, result: unknown, recorded: Buffer | undefined): Attempt {
  const { attempt } = claimed;
  const job = claimed;
  if (!isControlOutcome(result)) {
    const ack: Ack =
      recorded === undefined ? { job, state: 'completed' } : { job, state: 'completed', recorded };
    return { outcome: { kind: 'completed', result }, ack };
  }
  switch (result.kind) {
    case 'cancel':
      return {
        outcome: { kind: 'cancelled', reason: result.reason },
        ack: { job, state: 'cancelled', error: reasonEntry(attempt, 'cancelled', result.reason) },
      };
    case 'discard':
      return {
        outcome: { kind: 'discarded', reason: result.reason },
        ack: { job, state: 'discarded', error: reasonEntry(attempt, 'discarded', result.reason) },
      };
    case 'snooze':
      return {
        outcome: { kind: 'snoozed', seconds: result.seconds },
        ack: {
          job,
          state: 'scheduled',
          delayMs: Math.round(Math.min(result.seconds, longestDelaySeconds()) * 1000),
          refund: true,
        },
      };
  }
}

export function failed(
  claimed: ClaimedJob,
  job: Job<unknown>,
  entry: RunnableWorker,
  error: unknown,
  abort: JobAbort,
  deps: ExecutorDeps,
): Attempt {
  const { attempt } = claimed;
  if (abort.reason instanceof KobanShutdownError) {
    // Interrupted by this node's shutdown, not by a fault of the job: run it again soon.
    return {
      outcome: { kind: 'snoozed', seconds: 0 },
      ack: { job: claimed, state: 'scheduled', delayMs: 0, refund: true },
    };
  }
  const entryError = errorEntry(attempt, error);
  if (attempt >= claimed.maxAttempts) {
    return {
      outcome: { kind: 'error', error, state: 'discarded' },
      ack: { job: claimed, state: 'discarded', error: entryError },
    };
  }
  return {
    outcome: { kind: 'error', error, state: 'retryable' },
    ack: { job: claimed, state: 'retryable', error: entryError, delayMs: backoffMs(entry, job, deps) },
  };
}

/**
 * The worker's backoff, or the default one when it returns what cannot be a delay: not a number,
 * negative, or so long that the retry would fall after 9999-12-31 (an outcome the database could
 * not store, which would leave the job executing).
 */
function backoffMs(entry: RunnableWorker, job: Job<unknown>, deps: ExecutorDeps): number {
  if (entry.instance.backoff) {
    try {
      const seconds = entry.instance.backoff(job);
      if (Number.isFinite(seconds) && seconds >= 0 && seconds <= longestDelaySeconds())
        return Math.round(seconds * 1000);
      deps.logger.warn(
        { worker: entry.definition.name, id: job.id },
        `${entry.definition.name}.backoff returned ${seconds} for job ${job.id}, not a number of seconds between 0 and 9999-12-31; using the default backoff`,
      );
    } catch (error) {
      deps.logger.warn(
        { worker: entry.definition.name, id: job.id, error },
        `${entry.definition.name}.backoff threw; using the default backoff`,
      );
    }
  }
  return defaultBackoff(job.attempt) * 1000;
}

/**
 * The node's before hooks, then the worker's: each sees the args the previous one handed on
 * (`current.job`), and the first that returns cancel, snooze or discard ends the attempt with it.
 */
export async function runBeforeHooks(
  entry: RunnableWorker,
  current: { job: Job<unknown> },
  deps: ExecutorDeps,
): Promise<ControlOutcome | undefined> {
  const hooks: [string, BeforeProcessHook][] = deps.hooks?.hasBefore
    ? [...deps.hooks.beforeHooks].map((hook) => ['koban.hooks.beforeProcess', hook])
    : [];
  const own = entry.instance.beforeProcess;
  if (own) hooks.push([`${entry.definition.name}.beforeProcess`, (job) => own.call(entry.instance, job)]);
  for (const [source, hook] of hooks) {
    let result: unknown;
    try {
      result = await hook(current.job);
    } catch (error) {
      reportHookError(source, current.job, error, deps);
      continue;
    }
    if (result === undefined || result === null) continue;
    if (isControlOutcome(result)) return result;
    if (typeof result === 'object' && 'args' in result) {
      current.job = jobWithArgs(current.job, (result as { args: unknown }).args);
      continue;
    }
    reportHookError(
      source,
      current.job,
      new KobanConfigError(
        `${source} returned ${safeString(result)}: return nothing, { args }, cancel(reason), snooze(seconds) or discard(reason)`,
      ),
      deps,
    );
  }
  return undefined;
}

export async function runAfterHook(
  entry: RunnableWorker,
  job: Job<unknown>,
  outcome: ProcessOutcome,
  deps: ExecutorDeps,
) {
  if (entry.instance.afterProcess) {
    try {
      await entry.instance.afterProcess(job, outcome);
    } catch (error) {
      reportHookError(`${entry.definition.name}.afterProcess`, job, error, deps);
    }
  }
  if (deps.hooks?.hasAfter)
    await deps.hooks.runAfter(job, outcome, (hook, error) => reportHookError(hook, job, error, deps));
}

/** Hooks are for observation: their failures are reported, never charged to the job. */
export function reportHookError(source: string, job: Job<unknown>, error: unknown, deps: ExecutorDeps) {
  deps.logger.error(
    { id: job.id, worker: job.worker, error },
    `${source} threw for job ${job.id} (${job.worker})`,
  );
  deps.events.emit('error', { source, error });
}

/** An error as kept in the job's `errors`: text from user code made storable. */
export function errorEntry(attempt: number, error: unknown): JobError {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : `thrown: ${safeString(error)}`;
  const stack = error instanceof Error ? error.stack : undefined;
  const at = new Date().toISOString();
  return stack
    ? { attempt, at, error: storableText(message), stack: storableText(stack) }
    : { attempt, at, error: storableText(message) };
}

function reasonEntry(attempt: number, kind: string, reason: string): JobError {
  return { attempt, at: new Date().toISOString(), error: storableText(`${kind}: ${reason}`) };
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
}

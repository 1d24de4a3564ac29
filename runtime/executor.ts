import { KobanShutdownError, KobanTimeoutError, KobanUnknownWorkerError } from '../sdk/errors.js';
import type { Job, JobError } from '../sdk/job.js';
import { isControlOutcome } from '../sdk/results.js';
import type { ProcessOutcome } from '../sdk/worker.js';
import { defaultBackoff } from './backoff.js';
import type { KobanLogger } from './config.js';
import type { KobanEventEmitter } from './events.js';
import type { ProcessHooks } from './hooks.js';
import { JobAbort } from './job-abort.js';
import { type JobRow, toJob } from './job-row.js';
import type { Ack } from './outcome.js';
import { recordValue } from './recorded.js';
import { decodeStoredArgs } from './stored-args.js';
import type { CatalogWorker, WorkerCatalog } from './worker-catalog.js';

export interface ExecutorDeps {
  readonly catalog: WorkerCatalog;
  readonly events: KobanEventEmitter;
  readonly logger: KobanLogger;
  /** `koban.hooks`: run around every attempt. */
  readonly hooks?: ProcessHooks;
}

/** A job while it runs on this node; `abort` is how cancel and shutdown reach it. */
export interface RunningJob {
  readonly id: string;
  readonly abort: JobAbort;
}

/**
 * Runs one claimed job: decodes its args, calls the worker with a timeout, and turns whatever
 * happened into an Ack. It never throws: every failure becomes an outcome on the job.
 */
export async function executeJob(
  row: JobRow,
  deps: ExecutorDeps,
  running: Map<string, RunningJob>,
): Promise<Ack> {
  const id = String(row.id);
  const entry = deps.catalog.get(row.worker);
  if (!entry) {
    const error = new KobanUnknownWorkerError(row.worker, deps.catalog.names());
    return { id, attempt: row.attempt, state: 'cancelled', error: errorEntry(row.attempt, error) };
  }
  let args: unknown;
  try {
    args = decodeStoredArgs(entry, row.args, id);
  } catch (error) {
    // Args that no longer fit the worker's contract (or fail decryption) would fail the same way on every retry.
    return { id, attempt: row.attempt, state: 'cancelled', error: errorEntry(row.attempt, error) };
  }
  const abort = new JobAbort();
  const job = toJob(row, args, abort);
  running.set(id, { id, abort });
  const observed = deps.events.observesJobs;
  const queueTime = observed
    ? Math.max(0, (job.attemptedAt?.getTime() ?? Date.now()) - job.scheduledAt.getTime())
    : 0;
  if (observed) deps.events.emit('job:start', { job, queueTime });
  const started = performance.now();
  let outcome: ProcessOutcome;
  let ack: Ack;
  try {
    const result = await runWithTimeout(entry, job, abort, deps);
    // A value over the @Recorded limit, or not encodable, fails the attempt like a throw.
    const recorded =
      entry.definition.recorded && !isControlOutcome(result) ? await recordValue(entry, result) : undefined;
    ({ outcome, ack } = settle(id, job, result, recorded));
  } catch (error) {
    ({ outcome, ack } = failed(id, job, entry, error, abort, deps));
  } finally {
    running.delete(id);
  }
  if (entry.instance.afterProcess || deps.hooks?.hasAfter) await runAfterHook(entry, job, outcome, deps);
  if (!observed) return ack;
  const runTime = performance.now() - started;
  if (outcome.kind === 'error') {
    deps.events.emit('job:exception', { job, queueTime, runTime, outcome, error: outcome.error });
  } else {
    deps.events.emit('job:stop', { job, queueTime, runTime, outcome });
  }
  return ack;
}

async function runWithTimeout(
  entry: CatalogWorker,
  job: Job<unknown>,
  abort: JobAbort,
  deps: ExecutorDeps,
): Promise<unknown> {
  const { timeout } = entry.definition;
  const work =
    entry.instance.beforeProcess || deps.hooks?.hasBefore
      ? runBeforeHook(entry, job, deps).then(() => entry.instance.process(job))
      : entry.instance.process(job);
  if (timeout === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new KobanTimeoutError(entry.definition.name, timeout);
      abort.abort(error);
      reject(error);
    }, timeout);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

function settle(
  id: string,
  job: Job<unknown>,
  result: unknown,
  recorded: Buffer | undefined,
): { outcome: ProcessOutcome; ack: Ack } {
  const attempt = job.attempt;
  if (!isControlOutcome(result)) {
    const ack: Ack =
      recorded === undefined
        ? { id, attempt, state: 'completed' }
        : { id, attempt, state: 'completed', recorded };
    return { outcome: { kind: 'completed', result }, ack };
  }
  switch (result.kind) {
    case 'cancel':
      return {
        outcome: { kind: 'cancelled', reason: result.reason },
        ack: { id, attempt, state: 'cancelled', error: reasonEntry(attempt, 'cancelled', result.reason) },
      };
    case 'discard':
      return {
        outcome: { kind: 'discarded', reason: result.reason },
        ack: { id, attempt, state: 'discarded', error: reasonEntry(attempt, 'discarded', result.reason) },
      };
    case 'snooze':
      return {
        outcome: { kind: 'snoozed', seconds: result.seconds },
        ack: { id, attempt, state: 'scheduled', delayMs: Math.round(result.seconds * 1000), refund: true },
      };
  }
}

function failed(
  id: string,
  job: Job<unknown>,
  entry: CatalogWorker,
  error: unknown,
  abort: JobAbort,
  deps: ExecutorDeps,
): { outcome: ProcessOutcome; ack: Ack } {
  const attempt = job.attempt;
  if (abort.reason instanceof KobanShutdownError) {
    // Interrupted by this node's shutdown, not by a fault of the job: run it again soon.
    return {
      outcome: { kind: 'snoozed', seconds: 0 },
      ack: { id, attempt, state: 'scheduled', delayMs: 0, refund: true },
    };
  }
  const entryError = errorEntry(attempt, error);
  if (attempt >= job.maxAttempts) {
    return {
      outcome: { kind: 'error', error, state: 'discarded' },
      ack: { id, attempt, state: 'discarded', error: entryError },
    };
  }
  return {
    outcome: { kind: 'error', error, state: 'retryable' },
    ack: { id, attempt, state: 'retryable', error: entryError, delayMs: backoffMs(entry, job, deps) },
  };
}

function backoffMs(entry: CatalogWorker, job: Job<unknown>, deps: ExecutorDeps): number {
  if (entry.instance.backoff) {
    try {
      const seconds = entry.instance.backoff(job);
      if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
      deps.logger.warn(`${entry.definition.name}.backoff returned ${seconds}; using the default backoff`);
    } catch (error) {
      deps.logger.warn(`${entry.definition.name}.backoff threw; using the default backoff`, { error });
    }
  }
  return defaultBackoff(job.attempt) * 1000;
}

async function runBeforeHook(entry: CatalogWorker, job: Job<unknown>, deps: ExecutorDeps) {
  if (deps.hooks?.hasBefore)
    await deps.hooks.runBefore(job, (hook, error) => reportHookError(hook, job, error, deps));
  if (!entry.instance.beforeProcess) return;
  try {
    await entry.instance.beforeProcess(job);
  } catch (error) {
    reportHookError(`${entry.definition.name}.beforeProcess`, job, error, deps);
  }
}

async function runAfterHook(
  entry: CatalogWorker,
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
function reportHookError(source: string, job: Job<unknown>, error: unknown, deps: ExecutorDeps) {
  deps.logger.error(`${source} threw for job ${job.id} (${job.worker})`, { error });
  deps.events.emit('error', { source, error });
}

export function errorEntry(attempt: number, error: unknown): JobError {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : `thrown: ${safeString(error)}`;
  const stack = error instanceof Error ? error.stack : undefined;
  return stack
    ? { attempt, at: new Date().toISOString(), error: message, stack }
    : { attempt, at: new Date().toISOString(), error: message };
}

function reasonEntry(attempt: number, kind: string, reason: string): JobError {
  return { attempt, at: new Date().toISOString(), error: `${kind}: ${reason}` };
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
}

import type { Codec } from '../../sdk/codec.js';
import type { JsonObject } from '../../sdk/job.js';
import { newJob } from '../../sdk/job-spec.js';
import type { ArgsOf, ProcessOutcome, WorkerClass } from '../../sdk/worker.js';
import { jobBinding } from '../engine/args-binding.js';
import type { ClaimedJob } from '../engine/claim.js';
import { insertedRecord } from '../engine/insert-row.js';
import { KobanEventEmitter } from '../node/events.js';
import type { RunningJob } from '../node/executor.js';
import { consoleLogger, type KobanLogger, levelledLogger } from '../node/logger.js';
import { executeAttempt } from '../node/run-attempt.js';
import { prepareJob } from '../workers/prepare-job.js';
import { WorkerCatalog } from '../workers/worker-catalog.js';

/** A worker class, or a builder from `npx gen` (which carries its class and codec). */
export type WorkerRef<W extends WorkerClass = WorkerClass> =
  | W
  | { readonly worker: W; readonly codec?: Codec<ArgsOf<W>> };

export interface PerformOptions {
  meta?: JsonObject;
  attempt?: number;
  maxAttempts?: number;
  /** Aborts the attempt, as a cancel or shutdown would. */
  signal?: AbortSignal;
  logger?: KobanLogger;
}

export function resolveRef<W extends WorkerClass>(
  ref: WorkerRef<W>,
): { worker: W; codec?: Codec<ArgsOf<W>> } {
  return typeof ref === 'function' ? { worker: ref } : { worker: ref.worker, codec: ref.codec };
}

/**
 * Runs a worker's `process` once, without a database, on Koban's own executor: args are encoded
 * as an insert does (validated, encrypted for an `@Encrypted` worker) and decoded as a claim
 * does; hooks, the timeout, `@Recorded` limits and backoff apply as in production. Returns the
 * outcome; nothing is written anywhere.
 */
export async function performJob<W extends WorkerClass>(
  ref: WorkerRef<W>,
  args: ArgsOf<W>,
  options: PerformOptions = {},
): Promise<ProcessOutcome> {
  const { worker, codec } = resolveRef(ref);
  const catalog = await WorkerCatalog.create([{ worker, args: codec }]);
  const entry = catalog.all()[0]!;
  const stored = prepareJob(newJob(worker, args, { meta: options.meta ?? {} }, codec), {}, entry);
  const now = Date.now();
  // The job as a claim would hand it out: the record an insert of the row makes, then attempted.
  const { conflict: _conflict, ...inserted } = insertedRecord(stored, {
    id: '0',
    state: 'executing',
    insertedAt: now,
    scheduledAt: now,
  });
  const claimed: ClaimedJob = {
    ...inserted,
    args: stored.seal ? stored.seal(jobBinding('0')) : stored.args,
    attempt: options.attempt ?? 1,
    maxAttempts: options.maxAttempts ?? stored.maxAttempts,
    attemptedAt: new Date(now),
    attemptedBy: ['performJob'],
    workflowName: null,
    batchName: null,
    uniqueStates: null,
  };
  const running = new Map<string, RunningJob>();
  const events = new KobanEventEmitter();
  const attempt = executeAttempt(
    claimed,
    {
      catalog,
      events,
      // A test that performs a failing job expects it to fail: by default only errors are printed.
      logger: options.logger ?? levelledLogger(consoleLogger, 'error'),
      node: 'performJob',
    },
    running,
  );
  const { signal } = options;
  if (signal) {
    const abort = () => running.get('0')?.abort.abort(signal.reason);
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
  }
  return (await attempt).outcome;
}

import type { Codec } from '../../sdk/codec.js';
import type { JsonObject } from '../../sdk/job.js';
import { newJob } from '../../sdk/job-spec.js';
import type { ArgsOf, ProcessOutcome, WorkerClass } from '../../sdk/worker.js';
import { consoleLogger, type KobanLogger } from '../config.js';
import type { ClaimedRow } from '../engine/claim.js';
import { KobanEventEmitter } from '../node/events.js';
import { executeJob, type RunningJob } from '../node/executor.js';
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
  const now = new Date();
  const row: ClaimedRow = {
    id: '0',
    state: 'executing',
    queue: stored.queue,
    worker: stored.worker,
    args: stored.args,
    meta: stored.meta,
    tags: [...stored.tags],
    errors: [],
    attempt: options.attempt ?? 1,
    maxAttempts: options.maxAttempts ?? stored.maxAttempts,
    priority: stored.priority,
    insertedAt: now,
    scheduledAt: now,
    attemptedAt: now,
    completedAt: null,
    cancelledAt: null,
    discardedAt: null,
    attemptedBy: ['performJob'],
    workflowId: null,
    workflowStep: null,
    batchId: null,
    batchCallback: null,
    workflowName: null,
    batchName: null,
  };
  const running = new Map<string, RunningJob>();
  const events = new KobanEventEmitter();
  const attempt = executeJob(
    row,
    { catalog, events, logger: options.logger ?? consoleLogger, node: 'performJob' },
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

import { isDeepStrictEqual } from 'node:util';
import { KobanAssertionError, KobanValidationError } from '../../sdk/errors.js';
import type { JobRecord, JsonObject } from '../../sdk/job.js';
import { getWorkerDefinition } from '../../sdk/registry.js';
import type { JobState } from '../../sdk/states.js';
import type { ArgsOf, WorkerClass } from '../../sdk/worker.js';
import type { Koban } from '../koban.js';
import { drainerKey } from '../node/internals.js';
import { resolveRef, type WorkerRef } from './perform.js';

export interface EnqueuedFilter<W extends WorkerClass = WorkerClass> {
  worker?: WorkerRef<W> | string;
  queue?: string;
  /** Matches jobs whose args contain these keys with equal values. */
  args?: Partial<ArgsOf<W>> | JsonObject;
  meta?: JsonObject;
  /** Default: available and scheduled. */
  state?: JobState | readonly JobState[];
}

/** The enqueued jobs matching a filter, oldest first. */
export async function allEnqueued<W extends WorkerClass>(
  koban: Koban,
  filter: EnqueuedFilter<W> = {},
): Promise<JobRecord[]> {
  const states: JobState[] = filter.state === undefined ? ['available', 'scheduled'] : [filter.state].flat();
  const worker = filter.worker === undefined ? undefined : workerName(filter.worker);
  const jobs = await koban[drainerKey]().listJobs({ state: states, worker, queue: filter.queue });
  const encodedArgs = filter.args && encodePartial(filter);
  return jobs.filter((job) => contains(job.args, encodedArgs) && contains(job.meta, filter.meta));
}

export interface AssertEnqueuedOptions {
  /** Milliseconds to keep looking, for a job enqueued by another task. Default 0: look once. */
  timeout?: number;
}

/** How often assertEnqueued looks again while it waits. */
const pollMs = 20;

/**
 * Fails, listing what is enqueued, unless a matching job is enqueued; with `timeout`, unless one
 * is enqueued within that many milliseconds. Returns the first matching job.
 */
export async function assertEnqueued<W extends WorkerClass>(
  koban: Koban,
  filter: EnqueuedFilter<W>,
  options: AssertEnqueuedOptions = {},
): Promise<JobRecord> {
  const timeout = options.timeout ?? 0;
  if (!(Number.isFinite(timeout) && timeout >= 0)) {
    throw new KobanValidationError([
      { path: 'assertEnqueued.timeout', message: `expected milliseconds of at least 0, got ${timeout}` },
    ]);
  }
  const deadline = Date.now() + timeout;
  for (;;) {
    const [job] = await allEnqueued(koban, filter);
    if (job) return job;
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, deadline - Date.now())));
  }
  const waited = timeout > 0 ? ` within ${timeout} ms` : '';
  const sameWorker = await allEnqueued(koban, { worker: filter.worker, state: filter.state });
  throw new KobanAssertionError(
    `expected a job matching ${describe(filter)} to be enqueued${waited}; enqueued for that worker: ` +
      (sameWorker.length === 0
        ? 'none'
        : sameWorker
            .slice(0, 10)
            .map((other) => JSON.stringify({ queue: other.queue, args: other.args, meta: other.meta }))
            .join(', ')),
  );
}

/** Fails if a matching job is enqueued. */
export async function refuteEnqueued<W extends WorkerClass>(
  koban: Koban,
  filter: EnqueuedFilter<W>,
): Promise<void> {
  const found = await allEnqueued(koban, filter);
  if (found.length > 0) {
    throw new KobanAssertionError(
      `expected no job matching ${describe(filter)} to be enqueued, found ${found.length} (first id ${found[0]!.id})`,
    );
  }
}

function workerName(ref: WorkerRef | string): string {
  return typeof ref === 'string' ? ref : getWorkerDefinition(resolveRef(ref).worker).name;
}

/** Args filters are written in typed form; compare them in stored form when a codec exists. */
function encodePartial(filter: EnqueuedFilter): unknown {
  if (filter.worker === undefined || typeof filter.worker === 'string') return filter.args;
  const { codec } = resolveRef(filter.worker);
  if (!codec) return filter.args;
  try {
    return codec.encode(filter.args as never);
  } catch {
    return JSON.parse(JSON.stringify(filter.args));
  }
}

function contains(actual: unknown, expected: unknown): boolean {
  if (expected === undefined) return true;
  if (typeof expected !== 'object' || expected === null || Array.isArray(expected)) {
    return isDeepStrictEqual(actual, expected);
  }
  if (typeof actual !== 'object' || actual === null) return false;
  return Object.entries(expected).every(([key, value]) => contains((actual as JsonObject)[key], value));
}

function describe(filter: EnqueuedFilter): string {
  const worker = filter.worker === undefined ? undefined : workerName(filter.worker);
  return JSON.stringify({
    worker,
    queue: filter.queue,
    args: filter.args,
    meta: filter.meta,
    state: filter.state,
  });
}

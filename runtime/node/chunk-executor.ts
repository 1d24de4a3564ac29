import type { ChunkJobOutcome } from '../../sdk/chunk.js';
import { KobanTimeoutError } from '../../sdk/errors.js';
import type { Job } from '../../sdk/job.js';
import { type ControlOutcome, isControlOutcome } from '../../sdk/results.js';
import type { ClaimedJob } from '../engine/claim.js';
import { decodeStoredArgs } from '../workers/stored-args.js';
import type { RunnableWorker } from '../workers/worker-catalog.js';
import {
  type Attempt,
  type ExecutorDeps,
  failed,
  logFinalFailure,
  measured,
  type RunningJob,
  runAfterHook,
  runBeforeHooks,
  runTimeoutHook,
  settle,
  storedValue,
  unopened,
} from './executor.js';
import { JobAbort } from './job-abort.js';
import { attemptJob } from './job-object.js';

/** One job of a chunk while it runs: its abort, and the job `process` sees (hooks may change its args). */
interface Member {
  readonly claimed: ClaimedJob;
  readonly abort: JobAbort;
  readonly current: { job: Job<unknown> };
  readonly queueTime: number;
  span?: unknown;
}

/**
 * Runs one chunk of a chunk worker's jobs: decodes each job's args, runs each job's before hooks,
 * calls `process` once with the jobs left (within the worker's `timeout`), and turns its result
 * into one attempt per job, in the chunk's order. Like `executeJob` it never throws; a job whose
 * args cannot be opened, or that a hook stops, has its own outcome and is not handed to `process`.
 */
export async function executeChunk(
  chunk: readonly ClaimedJob[],
  entry: RunnableWorker,
  deps: ExecutorDeps,
  running: Map<string, RunningJob>,
): Promise<Attempt[]> {
  const attempts = new Map<string, Attempt>();
  const members: Member[] = [];
  const observed = deps.events.observesJobs;
  const { contexts, telemetry } = deps;
  for (const claimed of chunk) {
    let args: unknown;
    try {
      args = decodeStoredArgs(entry, claimed.args, claimed);
    } catch (error) {
      running.delete(claimed.id);
      attempts.set(claimed.id, unopened(claimed, error, deps));
      continue;
    }
    // A gathered job is running from its claim on (chunk-gatherer.ts): a cancel may have reached it.
    const abort = running.get(claimed.id)?.abort ?? new JobAbort();
    const job = attemptJob(claimed, args, {
      abort,
      workflow: claimed.workflowId !== null && contexts ? () => contexts.workflow(claimed) : undefined,
      batch: claimed.batchId !== null && contexts ? () => contexts.batch(claimed) : undefined,
      progress: deps.progress,
    });
    const queueTime = observed
      ? Math.max(0, (job.attemptedAt?.getTime() ?? Date.now()) - job.scheduledAt.getTime())
      : 0;
    running.set(claimed.id, { id: claimed.id, abort });
    if (observed) deps.events.emit('job:start', { job, queueTime });
    const member: Member = { claimed, abort, current: { job }, queueTime };
    if (telemetry) {
      const starting = telemetry.start(claimed);
      member.span = starting instanceof Promise ? await starting : starting;
    }
    members.push(member);
  }
  const started = performance.now();
  try {
    const runnable: Member[] = [];
    for (const member of members) {
      if (member.abort.aborted) {
        const { claimed, current, abort } = member;
        attempts.set(claimed.id, failed(claimed, current.job, entry, abort.reason, abort, deps));
        continue;
      }
      const stop =
        entry.instance.beforeProcess || deps.hooks?.hasBefore
          ? await runBeforeHooks(entry, member.current, deps)
          : undefined;
      if (stop) attempts.set(member.claimed.id, settle(member.claimed, stop, undefined));
      else runnable.push(member);
    }
    if (runnable.length > 0) await runChunk(entry, runnable, attempts, deps);
  } finally {
    for (const member of members) running.delete(member.claimed.id);
  }
  const runTime = performance.now() - started;
  for (const member of members) await finish(member, attempts.get(member.claimed.id)!, entry, runTime, deps);
  return chunk.map((claimed) => attempts.get(claimed.id)!);
}

/** Calls `process` with the jobs, and gives each its outcome from what it returned or threw. */
async function runChunk(
  entry: RunnableWorker,
  runnable: readonly Member[],
  attempts: Map<string, Attempt>,
  deps: ExecutorDeps,
): Promise<void> {
  let result: unknown;
  try {
    result = await withTimeout(entry, runnable, deps);
  } catch (error) {
    for (const { claimed, current, abort } of runnable)
      attempts.set(claimed.id, failed(claimed, current.job, entry, error, abort, deps));
    return;
  }
  const { recorded } = entry.definition;
  if (!(result instanceof Map)) {
    for (const { claimed, current } of runnable) {
      const value =
        recorded && !isControlOutcome(result)
          ? await storedValue(entry, current.job, undefined, deps)
          : undefined;
      attempts.set(claimed.id, settle(claimed, isControlOutcome(result) ? result : undefined, value));
    }
    return;
  }
  const outcomes = result as ReadonlyMap<unknown, ChunkJobOutcome>;
  let matched = 0;
  for (const member of runnable) {
    const { claimed, current, abort } = member;
    const key = outcomes.has(current.job) ? current.job : outcomes.has(claimed.id) ? claimed.id : undefined;
    if (key !== undefined) matched++;
    const outcome = key === undefined ? undefined : outcomes.get(key);
    if (outcome instanceof Error) {
      attempts.set(claimed.id, failed(claimed, current.job, entry, outcome, abort, deps));
    } else if (isControlOutcome(outcome)) {
      attempts.set(claimed.id, settle(claimed, outcome as ControlOutcome, undefined));
    } else {
      // Any other value completes the job, and is its result: stored when the worker is @Recorded.
      const value = recorded ? await storedValue(entry, current.job, outcome, deps) : undefined;
      attempts.set(claimed.id, settle(claimed, outcome, value));
    }
  }
  if (matched < outcomes.size) {
    deps.logger.warn(
      { worker: entry.definition.name, keys: outcomes.size - matched },
      `${entry.definition.name}.process returned outcomes for ${outcomes.size - matched} jobs that are not in its chunk: ` +
        'key the map by the jobs it was given or their ids',
    );
  }
}

/** `process(jobs)`, failed with a KobanTimeoutError past the worker's `timeout`: every job's signal aborts. */
async function withTimeout(entry: RunnableWorker, runnable: readonly Member[], deps: ExecutorDeps) {
  const jobs = runnable.map((member) => member.current.job);
  const work = Promise.resolve().then(() => entry.instance.process(jobs));
  const { timeout } = entry.definition;
  if (timeout === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const hooks: Promise<void>[] = [];
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new KobanTimeoutError(entry.definition.name, timeout);
      for (const member of runnable) {
        member.abort.abort(error);
        if (entry.instance.onTimeout)
          hooks.push(runTimeoutHook(entry, member.current.job, error, timeout, deps));
      }
      reject(error);
    }, timeout);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
    await Promise.all(hooks);
  }
}

/** What follows each job's attempt, as for a single job: progress, after hooks, logs, metrics, spans, events. */
async function finish(
  member: Member,
  attempt: Attempt,
  entry: RunnableWorker,
  runTime: number,
  deps: ExecutorDeps,
): Promise<void> {
  const { claimed, current } = member;
  const progressWritten = deps.progress?.settle(claimed.id);
  if (progressWritten) await progressWritten;
  if (entry.instance.afterProcess || deps.hooks?.hasAfter)
    await runAfterHook(entry, current.job, attempt.outcome, deps);
  if (attempt.ack.state === 'discarded' || attempt.ack.state === 'cancelled')
    logFinalFailure(claimed, attempt.ack, deps);
  if (deps.metrics) measured(claimed, attempt, runTime, deps);
  const ending = deps.telemetry?.end(member.span as never, claimed, attempt, runTime);
  if (ending) await ending;
  if (!deps.events.observesJobs) return;
  const { outcome } = attempt;
  const event = { job: current.job, queueTime: member.queueTime, runTime, outcome };
  if (outcome.kind === 'error') deps.events.emit('job:exception', { ...event, error: outcome.error });
  else deps.events.emit('job:stop', event);
}

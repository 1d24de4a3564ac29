import type { Batch } from '../../sdk/batch.js';
import { batchCallbacks, handlerName } from '../../sdk/batch-context.js';
import { KobanBatchError, KobanValidationError } from '../../sdk/errors.js';
import { uuidv7 } from '../../sdk/ids.js';
import type { JsonObject } from '../../sdk/job.js';
import type { JobSpec } from '../../sdk/job-spec.js';
import type { WorkerClass } from '../../sdk/worker.js';
import { checkQueueName } from '../../sdk/worker-options.js';
import { batchCallbackBinding } from '../engine/args-binding.js';
import type { EngineContext } from '../engine/context.js';
import type { InsertPlan, InsertRow, PlanWrite } from '../engine/insert.js';
import type { EncodedArgs } from '../engine/records.js';
import { jsonIssues } from '../workers/json-args.js';
import { prepareJobs } from '../workers/prepare-job.js';
import { storedArgs } from '../workers/stored-args.js';
import type { WorkerCatalog } from '../workers/worker-catalog.js';
import { batchRowsWrite, type PlannedBatch } from './batch-rows.js';
import { callbackBit } from './counting.js';

/** The bits of the callbacks a worker class implements. */
function implementedCallbacks(worker: WorkerClass): number {
  const prototype = worker.prototype as Record<string, unknown>;
  let bits = 0;
  for (const callback of batchCallbacks) {
    if (typeof prototype[handlerName(callback)] === 'function') bits |= callbackBit(callback);
  }
  return bits;
}

interface CallbackChoice {
  readonly worker: WorkerClass;
  readonly args?: unknown;
  readonly meta?: JsonObject;
  readonly queue?: string;
}

/**
 * The callback job of a batch as stored on its row: worker, queue, args in stored form (sealed
 * for an encrypted worker), meta and the worker's attempts, priority and tags. Callback args
 * are not the worker's job args, so only their JSON form is checked.
 */
async function storedCallback(
  catalog: WorkerCatalog,
  batchId: string,
  choice: CallbackChoice,
): Promise<{ callback: JsonObject; callbacks: number }> {
  const entry = await catalog.entryFor(choice.worker);
  const { definition } = entry;
  const callbacks = implementedCallbacks(choice.worker);
  if (callbacks === 0) {
    throw new KobanBatchError(
      `${definition.name} is named as the callback worker, but has none of the methods ${batchCallbacks.map(handlerName).join(', ')}`,
    );
  }
  const args = choice.args ?? {};
  const meta = choice.meta ?? {};
  const issues = [...jsonIssues(args, 'callbackArgs'), ...jsonIssues(meta, 'callbackMeta')];
  if (issues.length > 0) throw new KobanValidationError(issues, definition.name);
  return {
    callbacks,
    callback: {
      worker: definition.name,
      queue:
        choice.queue === undefined
          ? definition.queue
          : checkQueueName(choice.queue, 'callbackQueue', 'argument'),
      args: storedArgs(entry, args as EncodedArgs, batchCallbackBinding(batchId)) as unknown as JsonObject,
      meta,
      tags: [...definition.tags],
      maxAttempts: definition.maxAttempts,
      priority: definition.priority,
    },
  };
}

/**
 * The write that counts rows into the batches they join, for jobs built with `{ batchId }` (the
 * seed's form): each batch's callback worker is the worker of its first job, when it implements
 * any callback. None when no row joins a batch.
 */
export async function joinedBatches(
  ctx: EngineContext,
  catalog: WorkerCatalog,
  specs: readonly JobSpec[],
  rows: readonly InsertRow[],
): Promise<PlanWrite[]> {
  if (!rows.some((row) => row.batchId != null)) return [];
  return [batchRowsWrite(ctx, await plannedBatches(catalog, specs, rows))];
}

async function plannedBatches(
  catalog: WorkerCatalog,
  specs: readonly JobSpec[],
  rows: readonly InsertRow[],
): Promise<PlannedBatch[]> {
  const first = new Map<string, WorkerClass>();
  rows.forEach((row, index) => {
    if (row.batchId != null && !first.has(row.batchId)) first.set(row.batchId, specs[index]!.worker);
  });
  const batches: PlannedBatch[] = [];
  for (const [id, worker] of first) {
    const stored =
      implementedCallbacks(worker) === 0 ? undefined : await storedCallback(catalog, id, { worker });
    batches.push({ id, name: null, callback: stored?.callback ?? null, callbacks: stored?.callbacks ?? 0 });
  }
  return batches;
}

/** Everything `insertAll(batch(jobs, options))` writes. */
export async function batchPlan(
  ctx: EngineContext,
  catalog: WorkerCatalog,
  batch: Batch,
): Promise<InsertPlan> {
  const { options } = batch;
  const id = options.batchId ?? uuidv7();
  const prepared = await prepareJobs(catalog, batch.jobs);
  const rows = prepared.map((row, index) => {
    if (row.batchId != null && row.batchId !== id) {
      throw new KobanBatchError(
        `batch(): jobs[${index}] was built for batch ${row.batchId}, not this batch (${id})`,
      );
    }
    return { ...row, batchId: id };
  });
  const worker = callbackWorkerOf(batch);
  const stored =
    worker &&
    (await storedCallback(catalog, id, {
      worker,
      args: options.callbackArgs,
      meta: options.callbackMeta,
      queue: options.callbackQueue,
    }));
  const planned = {
    id,
    name: options.batchName ?? null,
    callback: stored?.callback ?? null,
    callbacks: stored?.callbacks ?? 0,
  };
  return { rows, after: [batchRowsWrite(ctx, [planned])] };
}

/**
 * The batch's callback worker: the one named in its options, or else the worker of all its jobs
 * when they share one that implements a callback.
 */
function callbackWorkerOf({ options, jobs }: Batch): WorkerClass | undefined {
  const named = options.callbackWorker;
  if (named !== undefined) return typeof named === 'function' ? named : named.worker;
  const workers = new Set(jobs.map((job) => job.worker));
  const [only] = workers;
  return workers.size === 1 && only && implementedCallbacks(only) !== 0 ? only : undefined;
}

/** What `appendBatch(id, jobs)` writes: the jobs, counted into the batch. */
export async function appendedBatchPlan(
  ctx: EngineContext,
  catalog: WorkerCatalog,
  batchId: string,
  jobs: readonly JobSpec[],
): Promise<InsertPlan> {
  const rows = (await prepareJobs(catalog, jobs)).map((row) => ({ ...row, batchId }));
  return { rows, after: [batchRowsWrite(ctx, [{ id: batchId, name: null, callback: null, callbacks: 0 }])] };
}

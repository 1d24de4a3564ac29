import { type Batch, isBatch } from '../sdk/batch.js';
import { KobanValidationError } from '../sdk/errors.js';
import type { JobSpec } from '../sdk/job-spec.js';
import { isWorkflow, type Workflow } from '../sdk/workflow.js';
import { batchPlan, plannedBatches } from './batches/plan.js';
import type { Executor } from './database/database.js';
import type { Engine } from './engine/engine.js';
import type { InsertedJob } from './engine/insert.js';
import { prepareJobs } from './workers/prepare-job.js';
import type { WorkerCatalog } from './workers/worker-catalog.js';
import { workflowPlan } from './workflows/plan.js';

export interface InsertAllOptions {
  /** An application transaction (Drizzle) to insert in: the jobs exist only if it commits. */
  tx?: Executor;
  /** Jobs per statement when inserting a list of jobs. Default 5000. */
  chunkSize?: number;
}

export type JobSource = Iterable<JobSpec> | AsyncIterable<JobSpec>;

/** What `insertAll` takes: jobs (any iterable, sync or async), a workflow, or a batch. */
export type InsertSource = JobSource | Workflow<any, any> | Batch;

/**
 * Inserts jobs, a workflow or a batch, all or nothing. A list of jobs goes in chunks, so no
 * statement carries them all; without an application transaction, anything that takes more than
 * one statement runs in a transaction of its own.
 */
export async function insertAll(
  engine: Engine,
  catalog: WorkerCatalog,
  source: InsertSource,
  options: InsertAllOptions = {},
): Promise<InsertedJob[]> {
  if (isWorkflow(source)) return engine.insert(await workflowPlan(catalog, source), options.tx);
  if (isBatch(source)) return engine.insert(await batchPlan(catalog, source), options.tx);
  if (!isIterable(source)) {
    throw new KobanValidationError([
      {
        path: 'insertAll',
        message: `expected jobs (an array or iterable of MyWorker.new(args)), a workflow() or a batch(), got ${describe(source)}`,
      },
    ]);
  }
  const chunkSize = options.chunkSize ?? 5000;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new KobanValidationError([
      { path: 'insertAll.chunkSize', message: `expected a positive integer, got ${String(chunkSize)}` },
    ]);
  }
  const run = async (executor: Executor | undefined, specs: JobSource = source) => {
    const inserted: InsertedJob[] = [];
    for await (const chunk of chunks(specs, chunkSize)) {
      const rows = await prepareJobs(catalog, chunk);
      const batches = rows.some((row) => row.batchId != null)
        ? await plannedBatches(catalog, chunk, rows)
        : [];
      for (const job of await engine.insert({ rows, batches }, executor)) inserted.push(job);
    }
    return inserted;
  };
  if (options.tx) return run(options.tx);
  if (Array.isArray(source) && source.length <= chunkSize) return run(undefined);
  // PGlite has one connection: a source that queries it would wait forever on our transaction,
  // so on PGlite the source is read in full before the transaction opens.
  const settled =
    engine.database.kind === 'pglite' && !Array.isArray(source) ? await collect(source) : source;
  return engine.database.transaction((tx) => run(tx, settled));
}

function isIterable(value: unknown): value is JobSource {
  return (
    typeof value === 'object' && value !== null && (Symbol.iterator in value || Symbol.asyncIterator in value)
  );
}

function describe(value: unknown): string {
  if (value === null || typeof value !== 'object') return String(value);
  return `an object with keys [${Object.keys(value).slice(0, 5).join(', ')}]`;
}

async function* chunks(source: JobSource, size: number): AsyncGenerator<JobSpec[]> {
  let chunk: JobSpec[] = [];
  for await (const spec of source) {
    chunk.push(spec);
    if (chunk.length >= size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

async function collect(source: JobSource): Promise<JobSpec[]> {
  const specs: JobSpec[] = [];
  for await (const spec of source) specs.push(spec);
  return specs;
}

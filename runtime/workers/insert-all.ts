import { type Batch, isBatch } from '../../sdk/batch.js';
import { KobanValidationError } from '../../sdk/errors.js';
import type { JobOptions, JobSpec } from '../../sdk/job-spec.js';
import { isWorkflow, type Workflow } from '../../sdk/workflow.js';
import type { Batches } from '../batches/batches.js';
import type { Executor } from '../database/executor.js';
import type { Engine } from '../engine/engine.js';
import type { InsertedJob, InsertPlan } from '../engine/insert.js';
import type { StoredArgs } from '../engine/records.js';
import type { Workflows } from '../workflows/workflows.js';
import { prepareJobs } from './prepare-job.js';
import { decodeStoredArgs, readableArgs } from './stored-args.js';
import type { WorkerCatalog } from './worker-catalog.js';

/** What inserting needs: the engine, the worker catalog, and the rooms of workflows and batches. */
export interface Inserter {
  readonly engine: Engine;
  readonly catalog: WorkerCatalog;
  readonly workflows: Workflows;
  readonly batches: Batches;
}

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
  inserter: Inserter,
  source: InsertSource,
  options: InsertAllOptions = {},
): Promise<InsertedJob[]> {
  const { engine } = inserter;
  if (isWorkflow(source)) return insertPlanned(inserter, await inserter.workflows.plan(source), options.tx);
  if (isBatch(source)) return insertPlanned(inserter, await inserter.batches.plan(source), options.tx);
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
  // Two chunks at most are in flight: the next is prepared while the last is written (in a
  // transaction, the statements queue on its connection in order).
  const run = async (executor: Executor | undefined, specs: JobSource = source) => {
    const written: Promise<InsertedJob[]>[] = [];
    for await (const chunk of chunks(specs, chunkSize)) {
      const write = insertSpecs(inserter, chunk, {}, executor);
      // Awaited below, in order; a failure meanwhile must not count as unhandled.
      write.catch(() => undefined);
      written.push(write);
      if (written.length >= 2) await written[written.length - 2];
    }
    const inserted: InsertedJob[] = [];
    for (const write of written) for (const job of await write) inserted.push(job);
    return inserted;
  };
  if (options.tx) return run(options.tx);
  if (Array.isArray(source) && source.length <= chunkSize)
    return engine.inserted(await run(undefined), undefined);
  // PGlite has one connection: a source that queries it would wait forever on our transaction,
  // so on PGlite the source is read in full before the transaction opens.
  const settled = engine.kind === 'pglite' && !Array.isArray(source) ? await collect(source) : source;
  return engine.inserted(await engine.transaction((tx) => run(tx, settled)), undefined);
}

/** Inserts jobs built by their builders, with insert options over theirs, as one plan. */
export async function insertSpecs(
  { engine, catalog, batches }: Inserter,
  specs: readonly JobSpec[],
  insertOptions: JobOptions,
  tx: Executor | undefined,
): Promise<InsertedJob[]> {
  const rows = await prepareJobs(catalog, specs, insertOptions);
  const plan: InsertPlan = { rows, after: await batches.joined(specs, rows) };
  return withCallerArgs(catalog, await engine.insert(plan, tx));
}

/** Inserts a planned workflow or batch, then lets the engine's mode settle it. */
async function insertPlanned(inserter: Inserter, plan: InsertPlan, tx: Executor | undefined) {
  const jobs = await withCallerArgs(inserter.catalog, await inserter.engine.insert(plan, tx));
  return inserter.engine.inserted(jobs, tx);
}

/**
 * An insert returns each job with the args its caller passed. A unique job that met an existing
 * one returns that one, whose args are read from storage: decoded as `process` would see them,
 * or, where that fails (a key this node lacks), in readable form.
 */
export async function withCallerArgs(catalog: WorkerCatalog, jobs: InsertedJob[]): Promise<InsertedJob[]> {
  if (!jobs.some((job) => job.conflict)) return jobs;
  return Promise.all(
    jobs.map(async (job) => {
      if (!job.conflict) return job;
      const entry = await catalog.entryForName(job.worker);
      const stored = job.args as StoredArgs;
      let args: unknown;
      try {
        args = entry ? decodeStoredArgs(entry, stored, job) : stored;
      } catch {
        args = readableOrStored(entry, stored, job);
      }
      return { ...job, args };
    }),
  );
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

function readableOrStored(
  entry: Parameters<typeof readableArgs>[0],
  stored: StoredArgs,
  job: InsertedJob,
): unknown {
  try {
    return readableArgs(entry, stored, job);
  } catch {
    return stored;
  }
}

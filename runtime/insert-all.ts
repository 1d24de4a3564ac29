import { KobanValidationError } from '../sdk/errors.js';
import type { JobSpec } from '../sdk/job-spec.js';
import type { Database, Executor } from './database.js';
import { type InsertedJob, insertRows } from './insert.js';
import { prepareJob } from './prepare-job.js';
import type { WorkerCatalog } from './worker-catalog.js';
import { prepareSpecs } from './worker-features.js';

export interface InsertAllOptions {
  /** An application transaction (Drizzle) to insert in: the jobs exist only if it commits. */
  tx?: Executor;
  /** Jobs per statement. Default 5000. */
  chunkSize?: number;
}

export type JobSource = Iterable<JobSpec> | AsyncIterable<JobSpec>;

/**
 * Inserts any number of jobs in chunks, so no statement carries them all. Without an application
 * transaction, a source larger than one chunk is inserted in a transaction of its own: all or none.
 */
export async function insertAll(
  database: Database,
  schema: string,
  catalog: WorkerCatalog,
  source: JobSource,
  options: InsertAllOptions = {},
): Promise<InsertedJob[]> {
  const chunkSize = options.chunkSize ?? 5000;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new KobanValidationError([
      { path: 'insertAll.chunkSize', message: `expected a positive integer, got ${String(chunkSize)}` },
    ]);
  }
  const run = async (executor: Executor | undefined, specs: JobSource = source) => {
    const inserted: InsertedJob[] = [];
    for await (const chunk of chunks(specs, chunkSize)) {
      await prepareSpecs(catalog, chunk);
      const rows = chunk.map((spec) => prepareJob(spec, {}, catalog));
      const jobs = await insertRows(database, schema, rows, executor);
      for (const job of jobs) inserted.push(job);
    }
    return inserted;
  };
  if (options.tx) return run(options.tx);
  if (Array.isArray(source) && source.length <= chunkSize) return run(undefined);
  // PGlite has one connection: a source that queries it would wait forever on our transaction,
  // so on PGlite the source is read in full before the transaction opens.
  const settled = database.kind === 'pglite' && !Array.isArray(source) ? await collect(source) : source;
  return database.transaction((tx) => run(tx, settled));
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

import type { JobSpec } from '../sdk/job-spec.js';
import type { Database, Executor } from './database.js';
import { type InsertedJob, insertRows } from './insert.js';
import { prepareJob } from './prepare-job.js';
import type { WorkerCatalog } from './worker-catalog.js';

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
  const run = async (executor: Executor | undefined) => {
    const inserted: InsertedJob[] = [];
    for await (const chunk of chunks(source, chunkSize)) {
      const rows = chunk.map((spec) => prepareJob(spec, {}, catalog));
      const jobs = await insertRows(database, schema, rows, executor);
      for (const job of jobs) inserted.push(job);
    }
    return inserted;
  };
  if (options.tx) return run(options.tx);
  if (Array.isArray(source) && source.length <= chunkSize) return run(undefined);
  return database.transaction((tx) => run(tx));
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

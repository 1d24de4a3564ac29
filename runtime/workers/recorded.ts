import { sql } from 'drizzle-orm';
import type { Codec } from '../../sdk/codec.js';
import type { FetchRecordedOptions, RecordedJobRef, RecordedValue } from '../../sdk/recorded.js';
import type { JobState } from '../../sdk/states.js';
import type { Database } from '../database/database.js';
import { toId } from '../job-queries.js';
import { decodeRecorded, encodeRecorded, unstorableReason } from './recorded-value.js';
import { type CatalogWorker, defaultRecordedLimit, keyRingOf, type WorkerCatalog } from './worker-catalog.js';

/** The stored form of what a `@Recorded` worker's `process` returned; see encodeRecorded. */
export function recordValue(entry: CatalogWorker, value: unknown): Promise<Buffer> {
  const { definition } = entry;
  return encodeRecorded(value, {
    worker: definition.name,
    codec: entry.result,
    limit: definition.recorded?.limit ?? defaultRecordedLimit,
    ring: definition.recorded?.encrypted ? keyRingOf(entry) : undefined,
  });
}

/** What reading a recorded value needs of a job row. */
export interface StoredRecorded {
  readonly id: string | number | bigint;
  readonly worker: string;
  readonly state: JobState;
  /** The `recorded` column as base64, or null. */
  readonly recorded: string | null;
}

/** The columns of StoredRecorded, read from the jobs table aliased `alias`. */
export function recordedColumns(alias: string) {
  return sql.raw(
    `${alias}.id, ${alias}.worker, ${alias}.state, encode(${alias}.recorded, 'base64') AS recorded`,
  );
}

/**
 * Reads a job's recorded value: `{ status: 'ok', value }`, or `{ status: 'missing', reason }`
 * when there is none yet or ever. Decodes with `options.codec`, else the worker's result codec.
 * A value that cannot be opened (wrong key, altered bytes) throws KobanEncryptionError.
 */
export async function fetchRecorded<Result>(
  database: Database,
  schema: string,
  catalog: WorkerCatalog,
  job: RecordedJobRef<Result>,
  options: FetchRecordedOptions<Result> = {},
): Promise<RecordedValue<Result>> {
  const id = toId(typeof job === 'object' ? job.id : job);
  const [row] = await database.query<StoredRecorded>(
    sql`SELECT ${recordedColumns('j')} FROM ${sql.raw(schema)}.jobs j WHERE j.id = ${id}::bigint`,
  );
  if (!row) {
    return {
      status: 'missing',
      reason: 'not_found',
      message: `no job ${id}: never inserted, or pruned or deleted`,
    };
  }
  return readRecorded(catalog, row, options.codec);
}

/** The recorded value of a job row already read. */
export async function readRecorded<Result>(
  catalog: WorkerCatalog,
  row: StoredRecorded,
  codec?: Codec<Result>,
): Promise<RecordedValue<Result>> {
  const id = String(row.id);
  if (row.recorded === null) {
    return row.state === 'completed'
      ? {
          status: 'missing',
          reason: 'not_recorded',
          message: `job ${id} (${row.worker}) completed without recording a value: its worker was not @Recorded when it ran`,
        }
      : {
          status: 'missing',
          reason: 'not_completed',
          message: `job ${id} (${row.worker}) is ${row.state}; a value is recorded when it completes`,
        };
  }
  const stored = Buffer.from(row.recorded, 'base64');
  const unstorable = unstorableReason(stored);
  if (unstorable !== undefined) {
    return {
      status: 'missing',
      reason: 'not_storable',
      message: `job ${id} (${row.worker}) completed, but its value could not be stored: ${unstorable}`,
    };
  }
  const entry = await catalog.entryForName(row.worker);
  const value = await decodeRecorded(stored, `the recorded value of job ${id}`, {
    worker: row.worker,
    codec: (codec ?? entry?.result) as Codec<unknown> | undefined,
    ring: entry?.definition.encrypted ? keyRingOf(entry) : undefined,
  });
  return { status: 'ok', value: value as Result };
}

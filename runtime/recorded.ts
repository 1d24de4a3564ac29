import { type SQL, sql } from 'drizzle-orm';
import type { Codec } from '../sdk/codec.js';
import type { JobState } from '../sdk/job.js';
import type { FetchRecordedOptions, RecordedJobRef, RecordedValue } from '../sdk/recorded.js';
import type { Database } from './database.js';
import { toId } from './job-queries.js';
import type { Ack } from './outcome.js';
import { decodeRecorded, encodeRecorded } from './recorded-value.js';
import type { CatalogWorker, WorkerCatalog } from './worker-catalog.js';
import { defaultRecordedLimit, keyRingOf } from './worker-features.js';

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

/**
 * Completes jobs and stores their recorded values in one statement. Kept apart from the plain
 * completion, which carries only ids and attempts, so jobs that record nothing pay nothing.
 */
export function completeRecordedStatement(schema: string, acks: readonly Ack[]): SQL {
  return sql`
    UPDATE ${sql.raw(schema)}.jobs j SET state = 'completed', completed_at = now(), recorded = decode(a.recorded, 'base64')
    FROM unnest(
      ${sql.param(acks.map((ack) => ack.id))}::bigint[], ${sql.param(acks.map((ack) => ack.attempt))}::int[],
      ${sql.param(acks.map((ack) => ack.recorded!.toString('base64')))}::text[]
    ) AS a(id, attempt, recorded)
    WHERE j.id = ANY(${sql.param(acks.map((ack) => ack.id))}::bigint[])
        AND j.id = a.id AND j.attempt = a.attempt AND j.state = 'executing'`;
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
  const [row] = await database.query<{ worker: string; state: JobState; recorded: string | null }>(sql`
    SELECT worker, state, encode(recorded, 'base64') AS recorded FROM ${sql.raw(schema)}.jobs WHERE id = ${id}::bigint`);
  if (!row) {
    return {
      status: 'missing',
      reason: 'not_found',
      message: `no job ${id}: never inserted, or pruned or deleted`,
    };
  }
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
  const entry = catalog.get(row.worker);
  const value = await decodeRecorded(Buffer.from(row.recorded, 'base64'), `the recorded value of job ${id}`, {
    worker: row.worker,
    codec: (options.codec ?? entry?.result) as Codec<unknown> | undefined,
    ring: entry?.definition.encrypted ? keyRingOf(entry) : undefined,
  });
  return { status: 'ok', value: value as Result };
}

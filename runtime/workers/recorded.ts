import type { Codec } from '../../sdk/codec.js';
import type { RecordedValue } from '../../sdk/recorded.js';
import type { StoredRecorded } from '../engine/records.js';
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

/** The recorded value of a job row already read. */
export async function readRecorded<Result>(
  catalog: WorkerCatalog,
  row: StoredRecorded,
  codec?: Codec<Result>,
): Promise<RecordedValue<Result>> {
  const { id } = row;
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

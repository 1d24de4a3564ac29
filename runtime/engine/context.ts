import type { JsonObject } from '../../sdk/job.js';
import type { Database } from '../database/database.js';
import type { EngineExtension } from './extension.js';

/** What the insert hook sees of a job row: its queue and meta. */
export interface HookedRow {
  readonly queue: string;
  readonly meta: JsonObject;
}

/**
 * Wraps every insert, whichever way it comes (insert, insertAll, workflows, batches, appends,
 * cron): tracing gives the rows its trace context (in meta) and times the call. Set only when
 * tracing is on.
 */
export type InsertHook = <Row extends HookedRow, Result>(
  rows: readonly Row[],
  insert: (rows: readonly Row[]) => Promise<Result>,
) => Promise<Result>;

/** What every engine operation works with: the database, the schema, and the extensions that hear transitions. */
export interface EngineContext {
  readonly database: Database;
  readonly schema: string;
  readonly extensions: readonly EngineExtension[];
  /** Whether completed jobs that no extension tracks and that record nothing are kept in the history. */
  readonly keepHistory: boolean;
  readonly insertHook?: InsertHook | undefined;
}

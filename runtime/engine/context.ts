import type { Database } from '../database/database.js';
import type { EngineExtension } from './extension.js';

/** What every engine operation works with: the database, the schema, and the extensions that hear transitions. */
export interface EngineContext {
  readonly database: Database;
  readonly schema: string;
  readonly extensions: readonly EngineExtension[];
  /** Whether completed jobs that no extension tracks and that record nothing are kept in the history. */
  readonly keepHistory: boolean;
}

import type { Database } from '../database/database.js';
import type { EngineExtension } from './extension.js';

/** What every engine operation works with: the database, the schema, and the extensions that hear transitions. */
export interface EngineContext {
  readonly database: Database;
  readonly schema: string;
  readonly extensions: readonly EngineExtension[];
}

import type { Database } from '../database/database.js';
import type { TransitionSubscriber } from './transitions.js';

/** What every engine operation works with: the database, the schema, and who hears transitions. */
export interface EngineContext {
  readonly database: Database;
  readonly schema: string;
  readonly subscribers: readonly TransitionSubscriber[];
}

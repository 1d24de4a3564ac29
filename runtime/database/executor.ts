import type { SQL } from 'drizzle-orm';
import type { PgDatabase } from 'drizzle-orm/pg-core';

export type DrizzleDatabase = PgDatabase<any, any, any>;

/**
 * Anything that runs a Drizzle `sql` query: Koban's database, or a transaction of the
 * application's own Drizzle database, on any driver (postgres-js, pglite, node-postgres).
 */
export interface Executor {
  execute(query: SQL): PromiseLike<unknown>;
}

import { type SQL, sql } from 'drizzle-orm';
import { insertChannel } from './signals.js';

/**
 * A CTE `woken` that notifies the producers of the queues that rows of the CTE `source` (with
 * `queue` and `state` columns) became available in, once per queue. It has one row: select
 * from it, or it does not run.
 */
export function wakeAvailable(schema: string, source: string): SQL {
  return sql.raw(`woken AS (
    SELECT count(pg_notify('${insertChannel(schema)}', queue)) AS woken
    FROM (SELECT DISTINCT queue FROM ${source} WHERE state = 'available') q
  )`);
}

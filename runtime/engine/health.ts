import { sql } from 'drizzle-orm';
import type { EngineContext } from './context.js';
import { latestVersion } from './migrations/index.js';

// What `koban doctor` reads of the database: the schema version, Koban's indexes, how bloated
// its tables are, the transactions that hold back vacuum, and whether LISTEN/NOTIFY reaches
// this client (a pooler in transaction mode drops it).

export interface StoredHealth {
  readonly schemaVersion: number;
  readonly latestVersion: number;
  /** Every index of Koban's tables, valid or not (a failed CREATE INDEX CONCURRENTLY leaves an invalid one). */
  readonly indexes: readonly { name: string; table: string; valid: boolean }[];
  /** Koban's tables with their live and dead rows and sizes (partitions of the history summed). */
  readonly tables: readonly { name: string; live: number; dead: number; bytes: number; indexBytes: number }[];
  /** Transactions open longer than a minute: they pin the xmin horizon, so vacuum keeps dead jobs. */
  readonly longTransactions: readonly { pid: number; seconds: number; state: string; query: string }[];
  readonly serverVersion: string;
}

export async function readHealth({ database, schema }: EngineContext): Promise<StoredHealth> {
  const [found] = await database.query<{ exists: boolean }>(
    sql`SELECT to_regclass(${`${schema}.schema_versions`}) IS NOT NULL AS exists`,
  );
  const [version] = found?.exists
    ? await database.query<{ v: number | null }>(
        sql.raw(`SELECT max(version) AS v FROM ${schema}.schema_versions`),
      )
    : [{ v: 0 }];
  const indexes = await database.query<{ name: string; table: string; valid: boolean }>(sql`
    SELECT i.relname AS name, t.relname AS table, x.indisvalid AS valid
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE n.nspname = ${schema} AND t.relname NOT LIKE 'job\\_history\\_%'
    ORDER BY t.relname, i.relname`);
  const tables = await database.query<{
    name: string;
    live: number;
    dead: number;
    bytes: number;
    indexBytes: number;
  }>(sql`
    SELECT CASE WHEN c.relname LIKE 'job\\_history\\_%' THEN 'job_history' ELSE c.relname END AS name,
      sum(coalesce(s.n_live_tup, 0))::float8 AS live, sum(coalesce(s.n_dead_tup, 0))::float8 AS dead,
      sum(pg_table_size(c.oid))::float8 AS bytes, sum(pg_indexes_size(c.oid))::float8 AS "indexBytes"
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
    WHERE n.nspname = ${schema} AND c.relkind = 'r'
    GROUP BY 1 ORDER BY 1`);
  const longTransactions = await database.query<{
    pid: number;
    seconds: number;
    state: string;
    query: string;
  }>(sql`
    SELECT pid, date_part('epoch', now() - xact_start)::float8 AS seconds, coalesce(state, '') AS state,
      left(coalesce(query, ''), 120) AS query
    FROM pg_stat_activity
    WHERE xact_start < now() - interval '1 minute' AND pid <> pg_backend_pid() AND datname = current_database()
    ORDER BY xact_start LIMIT 20`);
  const [server] = await database.query<{ version: string }>(
    sql`SELECT current_setting('server_version') AS version`,
  );
  return {
    schemaVersion: version?.v ?? 0,
    latestVersion,
    indexes,
    tables,
    longTransactions,
    serverVersion: server?.version ?? 'unknown',
  };
}

/** Whether a NOTIFY sent on this database reaches a LISTEN of this client within `timeoutMs`. */
export async function listenWorks({ database, schema }: EngineContext, timeoutMs: number): Promise<boolean> {
  const channel = `${schema}_doctor`;
  const token = `${process.pid}-${Date.now()}`;
  let heard: () => void = () => {};
  const arrived = new Promise<boolean>((resolve) => {
    heard = () => resolve(true);
    setTimeout(() => resolve(false), timeoutMs).unref();
  });
  const unlisten = await database.listen(channel, (payload) => {
    if (payload === token) heard();
  });
  try {
    await database.query(sql`SELECT pg_notify(${channel}, ${token})`);
    return await arrived;
  } finally {
    await unlisten();
  }
}

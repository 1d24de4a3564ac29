import { sql } from 'drizzle-orm';
import { KobanMigrationError } from '../../sdk/errors.js';
import type { Database } from '../database/database.js';
import type { Executor } from '../database/executor.js';
import { latestVersion, migrations } from './migrations/index.js';

export interface MigrationResult {
  readonly from: number;
  readonly to: number;
}

/** How long a migration statement waits for a table lock before the migration is retried. */
const migrationLockTimeout = '2s';
const migrationAttempts = 20;

/**
 * Brings the schema up to the latest version. Many processes may call this at once: a
 * transaction-scoped advisory lock lets one migrate while the others wait, then find nothing to do.
 * Nodes running meanwhile (of this version or the previous one) may hold locks the migration
 * needs: a lock timeout or a deadlock rolls the migration back, and it is tried again.
 */
export async function migrate(database: Database, schema: string): Promise<MigrationResult> {
  // An up-to-date schema needs no DDL, so a role with only read and write rights (or one that
  // owns the schema but may not create in the database) starts with the default migrate: true.
  const current = await recordedVersion(database, schema);
  if (current >= latestVersion) {
    refuseNewer(current, schema);
    return { from: current, to: current };
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateOnce(database, schema);
    } catch (error) {
      const code = (error as { code?: string }).code;
      const contended = code === '40P01' || code === '55P03'; // deadlock_detected, lock_not_available
      if (!contended || attempt >= migrationAttempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt * (0.5 + Math.random())));
    }
  }
}

async function migrateOnce(database: Database, schema: string): Promise<MigrationResult> {
  return database.transaction(async (tx) => {
    await database.query(sql`SELECT pg_advisory_xact_lock(hashtext(${`koban.migrate.${schema}`}))`, tx);
    // IF NOT EXISTS raises NOTICEs, which an application's client may print: keep them quiet.
    await database.query(sql`SET LOCAL client_min_messages = warning`, tx);
    // Nodes of the previous version keep running during the migration: a DDL lock that waits
    // behind their statements would queue all of them behind it, so it waits briefly and retries.
    await database.query(sql.raw(`SET LOCAL lock_timeout = '${migrationLockTimeout}'`), tx);
    await database.query(sql.raw(`CREATE SCHEMA IF NOT EXISTS ${schema}`), tx);
    await database.query(
      sql.raw(
        `CREATE TABLE IF NOT EXISTS ${schema}.schema_versions ` +
          '(version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
      ),
      tx,
    );
    const from = await currentVersion(database, schema, tx);
    refuseNewer(from, schema);
    for (let version = from + 1; version <= latestVersion; version++) {
      for (const statement of migrations[version - 1]!(schema)) {
        await database.query(sql.raw(statement), tx);
      }
      await database.query(
        sql.raw(`INSERT INTO ${schema}.schema_versions (version) VALUES (${version})`),
        tx,
      );
    }
    return { from, to: Math.max(from, latestVersion) };
  });
}

/** The schema's version, 0 when it has none, read without writing anything. */
async function recordedVersion(database: Database, schema: string): Promise<number> {
  const exists = await database.query<{ found: boolean }>(
    sql`SELECT to_regclass(${`${schema}.schema_versions`}) IS NOT NULL AS found`,
  );
  return exists[0]?.found ? await currentVersion(database, schema) : 0;
}

/** Fails when the schema is missing or behind, for nodes started with `migrate: false`. */
export async function verifySchema(database: Database, schema: string): Promise<void> {
  const version = await recordedVersion(database, schema);
  refuseNewer(version, schema);
  if (version < latestVersion) {
    throw new KobanMigrationError(
      `schema "${schema}" is at version ${version}, this Koban needs ${latestVersion}: ` +
        'run koban.migrate() or start one node with migrate enabled',
    );
  }
}

async function currentVersion(database: Database, schema: string, tx?: Executor) {
  const rows = await database.query<{ version: number | null }>(
    sql.raw(`SELECT max(version) AS version FROM ${schema}.schema_versions`),
    tx,
  );
  return rows[0]?.version ?? 0;
}

function refuseNewer(version: number, schema: string): void {
  if (version > latestVersion) {
    throw new KobanMigrationError(
      `schema "${schema}" is at version ${version}, newer than this Koban's ${latestVersion}: ` +
        'another node runs a newer Koban. Upgrade this one; older code must not run against a newer schema.',
    );
  }
}

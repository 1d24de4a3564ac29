import type { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { KobanConfigError } from '../../sdk/errors.js';
import { Database } from './database.js';
import { isPostgresUrl, parseDatabaseUrl, redactUrl } from './database-url.js';
import { createPglite, pgliteDrizzle } from './embedded-pglite.js';
import type { DrizzleDatabase } from './executor.js';
import { openInMemory } from './pglite-snapshot.js';
import { looksTransactionPooled, poolerWarning } from './pooler-check.js';
import { openPostgresClient } from './postgres-workarounds.js';
import { StatementGate } from './statement-gate.js';

/** What `Koban.start({ database })` accepts. */
export type DatabaseInput = string | DrizzleDatabase | PGlite | undefined;

export interface OpenOptions {
  /** With no database: where embedded PGlite keeps its data. */
  dataDir?: string | undefined;
  /** Connections Koban opens for a URL. */
  poolSize?: number | undefined;
  /** Milliseconds the first connection (and each new one) may take before it fails. */
  connectTimeout?: number | undefined;
  /** The longest wait, in milliseconds, between attempts to reconnect to a database that went away. */
  reconnectDelay?: number | undefined;
  /** The schema about to be migrated, whose snapshot an in-memory PGlite may start from. */
  schema?: string | undefined;
  /** The database goes through a pooler in transaction mode: no named prepared statements, LISTEN only on `listenUrl`. */
  pooler?: 'transaction' | undefined;
  /** A direct URL that LISTEN alone runs on. */
  listenUrl?: string | undefined;
  /** Milliseconds a statement with no deadline of its own may go unanswered (see Database). */
  statementDeadline?: number | undefined;
}

export const defaultConnectTimeout = 10_000;
export const defaultReconnectDelay = 500;

/**
 * Opens the database a node works on: embedded PGlite when there is none, a postgres.js client
 * Koban opens (and closes) for a URL, or the application's own PGlite or Drizzle database, which
 * Koban uses as it is: never reconfigured, never closed.
 */
export async function openDatabase(input: DatabaseInput, options: OpenOptions = {}): Promise<Database> {
  if (input === undefined) {
    const client = options.dataDir
      ? await createPglite({ dataDir: options.dataDir }, 'Koban.start({ dataDir })')
      : await openInMemory(options.schema);
    const label = options.dataDir ? `embedded PGlite at ${options.dataDir}` : 'embedded in-memory PGlite';
    return new Database(await pgliteDrizzle(client), { kind: 'pglite', client }, true, label);
  }
  const connectTimeout = options.connectTimeout ?? defaultConnectTimeout;
  if (typeof input === 'string') {
    if (!isPostgresUrl(input)) {
      throw new KobanConfigError(
        `database: expected a postgres:// URL, a Drizzle instance or a PGlite instance, got the string "${redactUrl(input)}"`,
      );
    }
    const { url, password, description } = parseDatabaseUrl(input);
    const pooled = options.pooler === 'transaction';
    const settings = {
      poolSize: options.poolSize ?? 10,
      connectTimeout,
      reconnectDelay: options.reconnectDelay ?? defaultReconnectDelay,
      password,
      prepare: !pooled,
    };
    const { client, transactions } = openPostgresClient(url, settings);
    const listener = openListener(options, settings);
    const database = new Database(
      drizzlePostgres({ client }),
      {
        kind: 'postgres',
        client,
        guarded: transactions,
        prepare: !pooled,
        listener,
        ...(pooled ? { gate: new StatementGate(settings.poolSize) } : {}),
      },
      true,
      description,
      options.statementDeadline,
    );
    try {
      await database.ping(connectTimeout);
      await checkPooler(database, options, () =>
        postgres(url, { ...probeOptions, ...(password === undefined ? {} : { password }) }),
      );
    } catch (error) {
      // Stops the driver's reconnect loop: a host that accepts and drops connections keeps it spinning.
      await client.end({ timeout: 0 }).catch(() => undefined);
      await listener?.end({ timeout: 0 }).catch(() => undefined);
      throw error;
    }
    return database;
  }
  if (isPgliteLike(input)) {
    const client = input as PGlite;
    await client.waitReady;
    return new Database(
      await pgliteDrizzle(client),
      { kind: 'pglite', client },
      false,
      'the given PGlite instance',
    );
  }
  if (isDrizzle(input)) {
    const client = (input as { $client?: unknown }).$client;
    if (isPgliteLike(client)) {
      return new Database(
        input,
        { kind: 'pglite', client: client as PGlite },
        false,
        'the given Drizzle (PGlite) database',
      );
    }
    if (typeof client === 'function' && typeof (client as postgres.Sql).listen === 'function') {
      const given = client as postgres.Sql;
      const pooled = options.pooler === 'transaction';
      // The application's own `prepare: false` (a pooler it knows of) holds for Koban's statements too.
      const prepare = !pooled && (given.options as { prepare?: boolean }).prepare !== false;
      const listener = openListener(options, {
        connectTimeout,
        reconnectDelay: options.reconnectDelay ?? defaultReconnectDelay,
      });
      const max = given.options.max;
      // Koban's statements leave a connection idle for the application's; the application's own
      // concurrent queries can still pipeline (see statement-gate.ts and the README).
      const gate = pooled
        ? new StatementGate(Math.max(1, (typeof max === 'number' ? max : 10) - 1))
        : undefined;
      const database = new Database(
        input,
        { kind: 'postgres', client: given, prepare, listener, ...(gate ? { gate } : {}) },
        false,
        'the given Drizzle database',
        options.statementDeadline,
      );
      try {
        await database.ping(connectTimeout);
        await checkPooler(database, options, () => postgres({ ...probeOptions, ...connectionOf(given) }));
      } catch (error) {
        await listener?.end({ timeout: 0 }).catch(() => undefined);
        throw error;
      }
      if (typeof max === 'number' && max < 2) {
        database.warnings.push(
          `database: the given postgres.js client has max: ${max} connection; Koban's claims, acks and heartbeats ` +
            'wait behind every application query on it, and a transaction that awaits a Koban call without { tx } ' +
            'never finishes. Give the client max: 2 or more (postgres.js defaults to 10).',
        );
      }
      return database;
    }
    throw new KobanConfigError(
      'database: the Drizzle instance must use the postgres-js or pglite driver (drizzle-orm/postgres-js, drizzle-orm/pglite); ' +
        'a node-postgres application can still insert in its own transactions with { tx }',
    );
  }
  throw new KobanConfigError(
    `database: expected a postgres:// URL, a Drizzle instance or a PGlite instance, got ${describe(input)}`,
  );
}

/**
 * The connection LISTEN runs on: its own client on `listenUrl` (Koban's, closed with the
 * database); none behind a pooler without one (null: the node polls); otherwise the client itself.
 */
function openListener(
  options: OpenOptions,
  settings: { connectTimeout: number; reconnectDelay: number },
): postgres.Sql | null | undefined {
  if (options.listenUrl !== undefined) {
    const { url, password } = parseDatabaseUrl(options.listenUrl);
    // postgres.js listens on a connection of its own, beside the pool: one is all it opens.
    return openPostgresClient(url, { ...settings, poolSize: 1, password, prepare: false }).client;
  }
  return options.pooler === 'transaction' ? null : undefined;
}

/** The pooler probe's clients: one connection each, nothing Koban's statements need. */
const probeOptions = {
  max: 1,
  prepare: false,
  fetch_types: false,
  onnotice: () => {},
  connect_timeout: 10,
} as const;

/** Where a given postgres.js client connects, for the probe's own short-lived clients. */
function connectionOf(client: postgres.Sql): postgres.Options<Record<string, never>> {
  const options = client.options as unknown as {
    host: string[];
    port: number[];
    user: string;
    database: string;
    pass?: string | (() => string | Promise<string>) | null;
    ssl?: unknown;
  };
  return {
    host: options.host[0],
    port: options.port[0],
    user: options.user,
    database: options.database,
    ...(options.pass ? { password: options.pass } : {}),
    ...(options.ssl ? { ssl: options.ssl as never } : {}),
  };
}

/**
 * Warns when the database looks pooled in transaction mode and Koban was not told so. A probe
 * that fails says nothing: the check is advice, and the node's own statements report real faults.
 */
async function checkPooler(
  database: Database,
  options: OpenOptions,
  connect: () => postgres.Sql,
): Promise<void> {
  if (options.pooler !== undefined) return;
  const pooled = await looksTransactionPooled(connect).catch(() => false);
  if (pooled) database.warnings.push(poolerWarning(database.description));
}

function isPgliteLike(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as PGlite).query === 'function' &&
    typeof (value as PGlite).exec === 'function' &&
    typeof (value as PGlite).listen === 'function'
  );
}

function isDrizzle(value: unknown): value is DrizzleDatabase {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as DrizzleDatabase).execute === 'function' &&
    typeof (value as DrizzleDatabase).transaction === 'function' &&
    '$client' in value
  );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object with keys [${Object.keys(value).slice(0, 5).join(', ')}]`;
  return typeof value;
}

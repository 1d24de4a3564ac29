import type { PGlite } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import { type PgDatabase, PgDialect } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import type postgres from 'postgres';
import { KobanConfigError } from '../../sdk/errors.js';
import { connectTimeoutError, explainConnectionError } from './connection-errors.js';
import { isPostgresUrl, parseDatabaseUrl, redactUrl } from './database-url.js';
import { createPglite, pgliteDrizzle } from './embedded-pglite.js';
import { openInMemory, snapshotMigrated } from './pglite-snapshot.js';
import { installArrayTypes } from './postgres-arrays.js';
import { openPostgresClient } from './postgres-client.js';
import { PostgresTransactions } from './postgres-transaction.js';

export type DrizzleDatabase = PgDatabase<any, any, any>;

/** Anything that runs a Drizzle `sql` query: the database, or an application transaction. */
export interface Executor {
  execute(query: SQL): PromiseLike<unknown>;
}

/** What `Koban.start({ database })` accepts. */
export type DatabaseInput = string | DrizzleDatabase | PGlite | undefined;

type PostgresClient = postgres.Sql;

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
}

export const defaultConnectTimeout = 10_000;
export const defaultReconnectDelay = 500;

const dialect = new PgDialect();

/**
 * The one place that knows which driver is underneath. Everything else runs Drizzle `sql`
 * queries through `query` and gets plain row objects back.
 */
export class Database {
  private transactions: PostgresTransactions | undefined;

  private constructor(
    readonly kind: 'postgres' | 'pglite',
    readonly drizzle: DrizzleDatabase,
    private readonly postgresClient: PostgresClient | undefined,
    private readonly pgliteClient: PGlite | undefined,
    private readonly owned: boolean,
    readonly description: string,
  ) {}

  static async open(input: DatabaseInput, options: OpenOptions = {}): Promise<Database> {
    if (input === undefined) {
      const client = options.dataDir
        ? await createPglite({ dataDir: options.dataDir }, 'Koban.start({ dataDir })')
        : await openInMemory(options.schema);
      const label = options.dataDir ? `embedded PGlite at ${options.dataDir}` : 'embedded in-memory PGlite';
      return new Database('pglite', await pgliteDrizzle(client), undefined, client, true, label);
    }
    const connectTimeout = options.connectTimeout ?? defaultConnectTimeout;
    if (typeof input === 'string') {
      if (!isPostgresUrl(input)) {
        throw new KobanConfigError(
          `database: expected a postgres:// URL, a Drizzle instance or a PGlite instance, got the string "${redactUrl(input)}"`,
        );
      }
      const { url, password, description } = parseDatabaseUrl(input);
      const client = openPostgresClient(url, {
        poolSize: options.poolSize ?? 10,
        connectTimeout,
        reconnectDelay: options.reconnectDelay ?? defaultReconnectDelay,
        password,
      });
      const database = new Database(
        'postgres',
        drizzlePostgres({ client }),
        client,
        undefined,
        true,
        description,
      );
      try {
        await database.ping(connectTimeout);
      } catch (error) {
        // Stops the driver's reconnect loop: a host that accepts and drops connections keeps it spinning.
        await client.end({ timeout: 0 }).catch(() => undefined);
        throw error;
      }
      return database;
    }
    if (isPgliteLike(input)) {
      const client = input as PGlite;
      await client.waitReady;
      return new Database(
        'pglite',
        await pgliteDrizzle(client),
        undefined,
        client,
        false,
        'the given PGlite instance',
      );
    }
    if (isDrizzle(input)) {
      const client = (input as { $client?: unknown }).$client;
      if (isPgliteLike(client)) {
        return new Database(
          'pglite',
          input,
          undefined,
          client as PGlite,
          false,
          'the given Drizzle (PGlite) database',
        );
      }
      if (typeof client === 'function' && typeof (client as PostgresClient).listen === 'function') {
        // A client made with `fetch_types: false` lacks the array types Koban's statements use.
        installArrayTypes(client as PostgresClient);
        const database = new Database(
          'postgres',
          input,
          client as PostgresClient,
          undefined,
          false,
          'the given Drizzle database',
        );
        await database.ping(connectTimeout);
        return database;
      }
      throw new KobanConfigError(
        'database: the Drizzle instance must use the postgres-js or pglite driver (drizzle-orm/postgres-js, drizzle-orm/pglite)',
      );
    }
    throw new KobanConfigError(
      `database: expected a postgres:// URL, a Drizzle instance or a PGlite instance, got ${describe(input)}`,
    );
  }

  /**
   * Runs a query and returns its rows. With an application transaction, the query joins it.
   * Koban's own statements on postgres.js are prepared: the hot path runs the same few
   * statements thousands of times.
   */
  async query<Row = Record<string, unknown>>(query: SQL, executor?: Executor): Promise<Row[]> {
    if (executor) return rowsOf<Row>(await executor.execute(query));
    if (this.postgresClient) {
      const compiled = dialect.sqlToQuery(query);
      return (await this.postgresClient.unsafe(compiled.sql, compiled.params as never[], {
        prepare: true,
      })) as Row[];
    }
    return rowsOf<Row>(await this.drizzle.execute(query));
  }

  /**
   * Runs `work` in a transaction on Koban's own connection. On postgres.js its statements are
   * prepared, as those of `query` are, and it survives the connection dying under it (see
   * postgres-transaction.ts): the engine's writes of workflow and batch jobs run here.
   */
  transaction<T>(work: (tx: Executor) => Promise<T>): Promise<T> {
    if (this.postgresClient) {
      this.transactions ??= new PostgresTransactions(this.postgresClient);
      return this.transactions.run(work);
    }
    return this.drizzle.transaction((tx) => work(tx));
  }

  /**
   * Subscribes to a NOTIFY channel; returns the unsubscribe function. Notifications sent while the
   * listening connection is down are lost: `onRelisten` runs each time it listens again, so the
   * caller can look for what it missed.
   */
  async listen(
    channel: string,
    onPayload: (payload: string) => void,
    onRelisten?: () => void,
  ): Promise<() => Promise<void>> {
    if (this.postgresClient) {
      let listening = false;
      const subscription = await this.postgresClient.listen(
        channel,
        (payload) => onPayload(payload),
        () => {
          if (listening) onRelisten?.();
          listening = true;
        },
      );
      return () => subscription.unlisten();
    }
    const unlisten = await this.pgliteClient!.listen(channel, (payload) => onPayload(payload));
    return () => unlisten();
  }

  /** Called once `schema` is migrated: lets later in-memory starts in this process begin from here. */
  async migrated(schema: string): Promise<void> {
    if (this.owned && this.pgliteClient) await snapshotMigrated(this.pgliteClient, schema);
  }

  /**
   * Closes the connection if Koban opened it; a database the application gave is left open.
   * Queries still running after `timeout` seconds are cut off.
   */
  async close({ timeout = 5 }: { timeout?: number } = {}): Promise<void> {
    if (!this.owned) return;
    if (this.postgresClient) await this.postgresClient.end({ timeout });
    if (this.pgliteClient) await this.pgliteClient.close();
  }

  /** Fails with a clear error when the server does not answer within `timeoutMs`. */
  private async ping(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(connectTimeoutError(timeoutMs)), timeoutMs);
    });
    const answered = this.postgresClient!.unsafe('select 1');
    answered.catch(() => undefined);
    try {
      await Promise.race([answered, expired]);
    } catch (error) {
      throw explainConnectionError(error, this.description);
    } finally {
      clearTimeout(timer);
    }
  }
}

function rowsOf<Row>(result: unknown): Row[] {
  if (Array.isArray(result)) return result as Row[];
  return ((result as { rows?: Row[] }).rows ?? []) as Row[];
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

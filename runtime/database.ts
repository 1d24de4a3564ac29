import type { PGlite } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import { type PgDatabase, PgDialect } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { KobanConfigError } from '../sdk/errors.js';
import { explainConnectionError } from './connection-errors.js';
import { createPglite, pgliteDrizzle } from './embedded-pglite.js';
import { openInMemory, snapshotMigrated } from './pglite-snapshot.js';

export type DrizzleDatabase = PgDatabase<any, any, any>;

/** Anything that runs a Drizzle `sql` query: the database, or an application transaction. */
export interface Executor {
  execute(query: SQL): PromiseLike<unknown>;
}

/** What `Koban.start({ database })` accepts. */
export type DatabaseInput = string | DrizzleDatabase | PGlite | undefined;

type PostgresClient = postgres.Sql;

const dialect = new PgDialect();

/**
 * The one place that knows which driver is underneath. Everything else runs Drizzle `sql`
 * queries through `query` and gets plain row objects back.
 */
export class Database {
  private constructor(
    readonly kind: 'postgres' | 'pglite',
    readonly drizzle: DrizzleDatabase,
    private readonly postgresClient: PostgresClient | undefined,
    private readonly pgliteClient: PGlite | undefined,
    private readonly owned: boolean,
    readonly description: string,
  ) {}

  /** `schema`: the schema about to be migrated, whose snapshot an in-memory PGlite may start from. */
  static async open(
    input: DatabaseInput,
    options: { dataDir?: string | undefined; poolSize?: number | undefined; schema?: string } = {},
  ): Promise<Database> {
    if (input === undefined) {
      const client = options.dataDir
        ? await createPglite({ dataDir: options.dataDir }, 'Koban.start({ dataDir })')
        : await openInMemory(options.schema);
      const label = options.dataDir ? `embedded PGlite at ${options.dataDir}` : 'embedded in-memory PGlite';
      return new Database('pglite', await pgliteDrizzle(client), undefined, client, true, label);
    }
    if (typeof input === 'string') {
      if (!/^postgres(ql)?:\/\//.test(input)) {
        throw new KobanConfigError(
          `database: expected a postgres:// URL, a Drizzle instance or a PGlite instance, got the string "${redact(input)}"`,
        );
      }
      const client = postgres(input, { max: options.poolSize ?? 10, onnotice: () => {} });
      const database = new Database(
        'postgres',
        drizzlePostgres({ client }),
        client,
        undefined,
        true,
        redact(input),
      );
      await database.ping();
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
        const database = new Database(
          'postgres',
          input,
          client as PostgresClient,
          undefined,
          false,
          'the given Drizzle database',
        );
        await database.ping();
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

  /** Runs `work` in a transaction on Koban's own connection. */
  transaction<T>(work: (tx: Executor) => Promise<T>): Promise<T> {
    return this.drizzle.transaction((tx) => work(tx));
  }

  /** Subscribes to a NOTIFY channel; returns the unsubscribe function. */
  async listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    if (this.postgresClient) {
      const subscription = await this.postgresClient.listen(channel, (payload) => onPayload(payload));
      return () => subscription.unlisten();
    }
    const unlisten = await this.pgliteClient!.listen(channel, (payload) => onPayload(payload));
    return () => unlisten();
  }

  /** Called once `schema` is migrated: lets later in-memory starts in this process begin from here. */
  async migrated(schema: string): Promise<void> {
    if (this.owned && this.pgliteClient) await snapshotMigrated(this.pgliteClient, schema);
  }

  /** Closes the connection if Koban opened it; a database the application gave is left open. */
  async close(): Promise<void> {
    if (!this.owned) return;
    if (this.postgresClient) await this.postgresClient.end({ timeout: 5 });
    if (this.pgliteClient) await this.pgliteClient.close();
  }

  private async ping(): Promise<void> {
    try {
      await this.postgresClient!.unsafe('select 1');
    } catch (error) {
      throw explainConnectionError(error, this.description);
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

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object with keys [${Object.keys(value).slice(0, 5).join(', ')}]`;
  return typeof value;
}

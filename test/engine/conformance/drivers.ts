import { PGlite } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { Database } from '../../../runtime/database/database.js';
import type { Executor } from '../../../runtime/database/executor.js';
import { openDatabase } from '../../../runtime/database/open-database.js';
import { BasicEngine, engineContext } from '../../../runtime/engine/engines/basic.js';
import { freshDatabase } from '../../support/databases.js';

const dialect = new PgDialect();

/** A Database that keeps the text of every statement it runs, for the SQL snapshots. */
export class RecordingDatabase extends Database {
  readonly statements: string[] = [];

  override query<Row = Record<string, unknown>>(query: SQL, executor?: Executor): Promise<Row[]> {
    this.statements.push(dialect.sqlToQuery(query).sql);
    return super.query<Row>(query, executor);
  }
}

/** A driver the conformance suite runs every engine operation on. */
export interface Driver {
  readonly name: string;
  readonly engine: BasicEngine;
  readonly database: RecordingDatabase;
  /** Runs SQL outside the engine, to set rows up and check them. */
  raw<Row = Record<string, unknown>>(text: string): Promise<Row[]>;
  close(): Promise<void>;
}

/** Re-opens what `openDatabase` gave as a RecordingDatabase with the same client. */
function recording(database: Database): RecordingDatabase {
  const internals = database as unknown as { driver: never; owned: boolean };
  return new RecordingDatabase(database.drizzle, internals.driver, internals.owned, database.description);
}

async function engineOn(database: Database): Promise<{ engine: BasicEngine; database: RecordingDatabase }> {
  const recorder = recording(database);
  const engine = new BasicEngine(engineContext(recorder, 'koban'));
  await engine.migrate();
  return { engine, database: recorder };
}

/** Koban's own postgres.js client, opened for a URL. */
export async function ownPostgres(): Promise<Driver> {
  const url = await freshDatabase({ migrated: false });
  const { engine, database } = await engineOn(await openDatabase(url, { poolSize: 4 }));
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  return {
    name: "Koban's postgres.js client",
    engine,
    database,
    raw: (text) => sql.unsafe(text) as never,
    close: async () => {
      await database.close();
      await sql.end();
    },
  };
}

/** The application's postgres.js client without fetched types, given through Drizzle. */
export async function givenPostgres(): Promise<Driver> {
  const url = await freshDatabase({ migrated: false });
  const client = postgres(url, { max: 4, onnotice: () => {}, fetch_types: false });
  const { engine, database } = await engineOn(await openDatabase(drizzlePostgres({ client })));
  return {
    name: 'a given postgres.js client (fetch_types: false)',
    engine,
    database,
    raw: (text) => client.unsafe(text) as never,
    close: () => client.end(),
  };
}

/** Embedded PGlite, in memory. */
export async function pglite(): Promise<Driver> {
  const client = new PGlite();
  const { engine, database } = await engineOn(await openDatabase(client));
  return {
    name: 'PGlite',
    engine,
    database,
    raw: async (text) => ((await client.exec(text)).at(-1)?.rows ?? []) as never,
    close: () => client.close(),
  };
}

export const drivers = [ownPostgres, givenPostgres, pglite];

import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../runtime/database/database.js';
import { openDatabase } from '../../runtime/database/open-database.js';
import { freshDatabase } from '../support/databases.js';

// A connection that dies in the middle of one of Koban's transactions (a restart, a failover,
// pg_terminate_backend) must fail that transaction, not the process: postgres.js's own begin
// wrote the ROLLBACK, or the next statement, to the dead socket from a timer, and the uncaught
// TypeError killed the process.

let url: string;
let admin: postgres.Sql;
let database: Database;

beforeAll(async () => {
  url = await freshDatabase();
  admin = postgres(url, { max: 1, onnotice: () => {} });
  database = await openDatabase(url, { poolSize: 2 });
});

afterAll(async () => {
  await database?.close();
  await admin?.end();
});

describe('a transaction whose connection is terminated', () => {
  it('fails, sends nothing more on that connection, and the next one works', async () => {
    const failure = await database
      .transaction(async (tx) => {
        const [row] = await database.query<{ pid: number }>(sql`SELECT pg_backend_pid() AS pid`, tx);
        await admin`SELECT pg_terminate_backend(${row!.pid})`;
        // Let the client see the connection close before the next statement.
        await new Promise((resolve) => setTimeout(resolve, 300));
        await database.query(sql`SELECT 1`, tx);
      })
      .then(
        () => undefined,
        (error: Error) => error,
      );
    expect(failure?.message).toMatch(/CONNECTION_CLOSED|terminating connection/);
    // The process is alive, and the pool gives a working connection to the next transaction.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const rows = await database.transaction((tx) =>
      database.query<{ one: number }>(sql`SELECT 1 AS one`, tx),
    );
    expect(rows).toEqual([{ one: 1 }]);
  });

  it('fails when the connection dies during a statement, and the next one works', async () => {
    const failure = await database
      .transaction(async (tx) => {
        const [row] = await database.query<{ pid: number }>(sql`SELECT pg_backend_pid() AS pid`, tx);
        await Promise.all([
          database.query(sql`SELECT pg_sleep(2)`, tx),
          new Promise((resolve) => setTimeout(resolve, 200)).then(
            () => admin`SELECT pg_terminate_backend(${row!.pid})`,
          ),
        ]);
      })
      .then(
        () => undefined,
        (error: Error) => error,
      );
    expect(failure).toBeInstanceOf(Error);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const rows = await database.transaction((tx) =>
      database.query<{ one: number }>(sql`SELECT 1 AS one`, tx),
    );
    expect(rows).toEqual([{ one: 1 }]);
  });
});

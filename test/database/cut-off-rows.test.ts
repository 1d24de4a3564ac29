import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import type { Database } from '../../runtime/database/database.js';
import { openDatabase } from '../../runtime/database/open-database.js';
import { freshDatabase, withSql } from '../support/databases.js';

// postgres.js counts the rows of a reply per connection and resets the count only when a reply
// completes: a connection terminated while rows streamed in left the count standing, and the
// first reply on the reconnected connection came back with holes before its rows. A claim read
// as [undefined, …] crashed the node in the termination storm. Koban's statements read their
// rows without the holes.

let database: Database | undefined;
afterAll(() => database?.close());

describe('a reply after a connection cut off in the middle of its rows', () => {
  it('has its rows only, none missing and no holes, on the reconnected connection', async () => {
    const url = await freshDatabase();
    database = await openDatabase(url, { poolSize: 1 });
    const [{ pid }] = (await database.query<{ pid: number }>(sql`SELECT pg_backend_pid() AS pid`)) as [
      { pid: number },
    ];
    // Wide rows, one every 20 ms, so that some have arrived when the connection is cut.
    const streaming = database.query(
      sql`SELECT n, repeat('x', 20000) AS wide, pg_sleep(0.02) FROM generate_series(1, 200) n`,
    );
    const failed = streaming.then(
      () => 'answered',
      () => 'failed',
    );
    await new Promise((resolve) => setTimeout(resolve, 600));
    await withSql(url, (admin) => admin`SELECT pg_terminate_backend(${pid})`);
    expect(await failed).toBe('failed');

    // The cut connection's error may reach a statement or two queued behind it, as for any
    // caller of a connection that dies; the first reply after the reconnect is the one to check.
    let rows: { n: number }[] | undefined;
    for (let tries = 0; rows === undefined && tries < 5; tries++)
      rows = await database
        .query<{ n: number }>(sql`SELECT n FROM generate_series(1, 3) n`)
        .catch(() => undefined);
    expect(rows).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(rows).toHaveLength(3);
    const inTransaction = await database.transaction((tx) =>
      database!.query<{ n: number }>(sql`SELECT n FROM generate_series(1, 2) n`, tx),
    );
    expect(inTransaction).toEqual([{ n: 1 }, { n: 2 }]);
  });
});

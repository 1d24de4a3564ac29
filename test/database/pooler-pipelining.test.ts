import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../runtime/database/database.js';
import { openDatabase } from '../../runtime/database/open-database.js';
import { adminUrl, freshDatabase } from '../support/databases.js';
import { type Bouncer, startPgbouncer } from './support/pgbouncer.js';

// postgres.js sends a statement on a busy connection when all are busy (pipelining). Through
// PgBouncer in transaction mode, a parameterised statement without prepare (Parse, Describe,
// Flush) sent behind another is lost: the server connection goes back to the pool at the first
// statement's ReadyForQuery, the second one's answer arrives for nobody ("got packet '1' from
// server when not linked"), and its query waits forever. Koban's statements never pipeline.

let bouncer: Bouncer;
let database: Database;

beforeAll(async () => {
  bouncer = await startPgbouncer(new URL(adminUrl()), { poolSize: 2 });
  database = await openDatabase(bouncer.url(await freshDatabase()), { pooler: 'transaction', poolSize: 2 });
});

afterAll(async () => {
  await database?.close({ timeout: 1 });
  await bouncer?.stop();
});

describe("Koban's statements through PgBouncer in transaction mode", () => {
  it('all get their answer when many more run at once than there are connections', async () => {
    // One statement in two has no parameters: postgres.js sends it whole, and may send the next
    // one, parameterised, behind it on the same connection.
    const statements = Array.from({ length: 400 }, (_, n) =>
      database
        .query<{ n: number }>(
          n % 2 === 0
            ? sql.raw(`SELECT ${n}::int AS n`)
            : // A statement the server takes a while to parse: its answer comes after the first one's.
              sql`SELECT ${n}::int AS n FROM information_schema.columns WHERE false`,
        )
        .then((rows) => rows[0]?.n ?? n),
    );
    const transactions = Array.from({ length: 40 }, (_, n) =>
      database.transaction(async (tx) => {
        const [row] = await database.query<{ n: number }>(sql`SELECT ${n}::int + 1 AS n`, tx);
        return row!.n - 1;
      }),
    );
    const answers = await Promise.all([...statements, ...transactions]);
    expect(answers).toEqual([
      ...Array.from({ length: 400 }, (_, n) => n),
      ...Array.from({ length: 40 }, (_, n) => n),
    ]);
    expect(bouncer.log()).not.toContain('when not linked');
  });
});

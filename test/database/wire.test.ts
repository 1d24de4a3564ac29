import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ListType, list } from '../../runtime/database/wire.js';
import { adminUrl } from '../support/databases.js';

// Koban sends lists as one text parameter cast on the server, and reads arrays as JSON, so that
// its statements need no array types registered on the client: they must round-trip the same on
// every client an application may hand Koban or run a { tx } on.

const awkward = [
  '',
  'plain',
  'NULL',
  'with "quotes"',
  'back\\slash',
  'a,b',
  '{braces}',
  ' spaced ',
  'é ✓ 🎉',
  'new\nline',
];

interface Client {
  readonly name: string;
  run(query: ReturnType<typeof sql>): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

const clients: Client[] = [];

beforeAll(async () => {
  const plain = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  const bare = postgres(adminUrl(), { max: 1, onnotice: () => {}, fetch_types: false });
  const lite = new PGlite();
  const viaDrizzle = (name: string, client: postgres.Sql): Client => {
    const db = drizzlePostgres({ client });
    return { name, run: async (query) => [...(await db.execute(query))], close: () => client.end() };
  };
  clients.push(
    viaDrizzle('postgres.js with fetch_types', plain),
    viaDrizzle('postgres.js without fetch_types', bare),
  );
  const liteDb = drizzlePglite({ client: lite });
  clients.push({
    name: 'PGlite',
    run: async (query) => (await liteDb.execute(query)).rows as Record<string, unknown>[],
    close: () => lite.close(),
  });
});

afterAll(async () => {
  for (const client of clients) await client.close();
});

describe('lists and arrays on every client', () => {
  it('round-trips text lists with awkward strings and nulls', async () => {
    for (const client of clients) {
      const [row] = await client.run(
        sql`SELECT to_json(${list([...awkward, null], 'text')}) AS a, cardinality(${list(awkward, 'text')}) AS n`,
      );
      expect(row!.a, client.name).toEqual([...awkward, null]);
      expect(Number(row!.n), client.name).toBe(awkward.length);
    }
  });

  it('round-trips bigint, int, smallint and uuid lists, all nulls and the empty list included', async () => {
    const id = '0190e1b4-0000-7000-8000-000000000001';
    const lists: [ListType, (string | number | null)[], unknown[]][] = [
      ['bigint', ['1', '9007199254740993', null], ['1', '9007199254740993', null]],
      ['int', [1, -2, null], [1, -2, null]],
      ['smallint', [0, 9], [0, 9]],
      ['uuid', [id, null], [id, null]],
      ['uuid', [null, null], [null, null]],
      ['text', [], []],
    ];
    for (const client of clients) {
      for (const [type, values, expected] of lists) {
        // bigints come back as text inside JSON, as Koban reads ids.
        const cast =
          type === 'bigint'
            ? sql`(SELECT array_agg(x::text) FROM unnest(${list(values, type)}) x)`
            : list(values, type);
        const [row] = await client.run(sql`SELECT coalesce(to_json(${cast}), '[]'::json) AS a`);
        expect(row!.a, `${client.name} ${type}`).toEqual(expected);
      }
    }
  });
});
